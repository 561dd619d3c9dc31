namespace StoreSync.Benchmarks; public static class Program { public static int Main(string[] args) { Console.Error.WriteLine("no benchmarks yet"); return 2; } }
