namespace StoreSync.Node;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("storesync: the command line lands with the storage layer");
        return 2;
    }
}
