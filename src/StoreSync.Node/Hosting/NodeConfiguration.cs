using Microsoft.Extensions.Configuration;

namespace StoreSync.Node.Hosting;

/// <summary>Reads NodeOptions from, lowest precedence first: defaults, the --preset network, appsettings.json (section "StoreSync"), a --config file, STORESYNC_* variables, flags.</summary>
public static class NodeConfiguration
{
    public const string EnvironmentPrefix = "STORESYNC_";

    public static NodeOptions Load(string? configFile, IReadOnlyDictionary<string, string?> flags, string? workingDirectory = null)
    {
        var dir = workingDirectory ?? Directory.GetCurrentDirectory();
        if (configFile is not null && !File.Exists(Path.Combine(dir, configFile)))
            throw new FileNotFoundException($"configuration file not found: {Path.GetFullPath(Path.Combine(dir, configFile))}");
        var builder = new ConfigurationBuilder().SetBasePath(dir).AddJsonFile("appsettings.json", optional: true);
        if (configFile is not null) builder.AddJsonFile(configFile, optional: false);
        var fileConfig = builder.Build();
        var env = new ConfigurationBuilder().AddEnvironmentVariables(EnvironmentPrefix).Build();
        var cli = new ConfigurationBuilder().AddInMemoryCollection(flags).Build();

        var options = new NodeOptions();
        // A preset replaces the defaults only: every source, file to flags, overrides what it sets (as nwaku's --preset does
        // not let it override an explicit flag). An unknown name is left for NetworkErrors to report.
        var preset = cli[nameof(NodeOptions.Preset)] ?? env[nameof(NodeOptions.Preset)] ?? fileConfig.GetSection(NodeOptions.Section)[nameof(NodeOptions.Preset)];
        if (!string.IsNullOrEmpty(preset) && NetworkPreset.TryGet(preset, out var network)) network.ApplyTo(options);
        try
        {
            // Lists are replaced, not merged, by a higher source: bind each source in turn onto cleared lists.
            Bind(fileConfig.GetSection(NodeOptions.Section), options);
            Bind(env, options);
            Bind(cli, options);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"invalid configuration: {e.Message}", e);
        }
        return options;
    }

    static void Bind(IConfiguration source, NodeOptions options)
    {
        if (source.GetSection(nameof(NodeOptions.Shards)).Exists()) options.Shards.Clear();
        if (source.GetSection(nameof(NodeOptions.PubsubTopics)).Exists()) options.PubsubTopics.Clear();
        if (source.GetSection(nameof(NodeOptions.StaticNodes)).Exists()) options.StaticNodes.Clear();
        if (source.GetSection(nameof(NodeOptions.EntryNodes)).Exists()) options.EntryNodes.Clear();
        if (source.GetSection(nameof(NodeOptions.Discv5BootstrapNodes)).Exists()) options.Discv5BootstrapNodes.Clear();
        if (source.GetSection(nameof(NodeOptions.RateLimits)).Exists()) options.RateLimits.Clear();
        if (source.GetSection(nameof(NodeOptions.DnsAddrsNameServers)).Exists()) options.DnsAddrsNameServers.Clear();
        // A community's topic lists too: a higher source that names them replaces them.
        foreach (var community in source.GetSection(nameof(NodeOptions.Communities)).GetChildren())
        {
            if (!options.Communities.TryGetValue(community.Key, out var existing)) continue;
            if (community.GetSection(nameof(Communities.CommunityOptions.PubsubTopics)).Exists()) existing.PubsubTopics.Clear();
            if (community.GetSection(nameof(Communities.CommunityOptions.ContentTopics)).Exists()) existing.ContentTopics.Clear();
        }
        // A misspelt setting is an error, not a silently ignored line.
        source.Bind(options, o => o.ErrorOnUnknownConfiguration = true);
    }
}
