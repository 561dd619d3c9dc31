namespace StoreSync.Testing.Interop;

/// <summary>Finds the Node.js peers' folders under tests/Interop (each with its node_modules, installed by tests/run.sh with npm ci).</summary>
public static class InteropScripts
{
    /// <summary>The folder tests/Interop/<paramref name="folder"/> above the test binaries, checked to hold <paramref name="script"/>.</summary>
    public static string Directory(string folder, string script)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Interop", folder);
            if (File.Exists(Path.Combine(candidate, script))) return candidate;
        }
        throw new DirectoryNotFoundException($"tests/Interop/{folder}/{script} not found above {AppContext.BaseDirectory}");
    }
}
