namespace StoreSync.Node.Dashboard;

/// <summary>The dashboard page (static HTML and vanilla JS, embedded in the assembly: no build step, no files beside the binary).</summary>
public static class DashboardPage
{
    public const string ResourceName = "StoreSync.Node.Dashboard.dashboard.html";

    static readonly Lazy<string> Page = new(() =>
    {
        using var stream = typeof(DashboardPage).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    public static string Html => Page.Value;
}
