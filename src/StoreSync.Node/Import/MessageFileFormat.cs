namespace StoreSync.Node.Import;

/// <summary>The import file formats: newline-delimited JSON, or varint-length-delimited WakuMessageKeyValue protobufs.</summary>
public enum MessageFileFormat { Auto, Ndjson, Protobuf }
