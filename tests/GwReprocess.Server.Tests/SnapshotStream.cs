namespace GwReprocess.Server.Tests;

/// <summary>The stream snapshotter's geometry in <see cref="TestServer"/>'s repository, test streams for it, and an independent reference for its windows.</summary>
internal static class SnapshotStream
{
    /// <summary>Channels, window K, stride s and windows per update B, as <see cref="TestServer"/> builds the snapshotter.</summary>
    public const int C = 3, K = 1024, S = 32, B = 2;

    /// <summary>A C-channel stream of <paramref name="requests"/> updates, channel-major.</summary>
    public static float[][] Signal(int requests, int seed) =>
        Enumerable.Range(0, C).Select(c => TestServer.Signal(requests * B * S, seed * 10 + c)).ToArray();

    /// <summary>The update of request i: [1, C, B·s] taken from the stream.</summary>
    public static float[] Update(float[][] x, int request)
    {
        var u = new float[C * B * S];
        for (int c = 0; c < C; c++) Array.Copy(x[c], request * B * S, u, c * B * S, B * S);
        return u;
    }

    /// <summary>Window j of a stream x (channels × samples) with a zero state at START: z[(j+1)s : (j+1)s + K] of z = K zeros then x.</summary>
    public static float[] ExpectedWindows(float[][] x, int request)
    {
        var w = new float[B * C * K];
        for (int k = 0; k < B; k++)
        {
            int j = request * B + k;
            for (int c = 0; c < C; c++)
                for (int t = 0; t < K; t++)
                {
                    int zi = (j + 1) * S + t;
                    w[(k * C + c) * K + t] = zi < K ? 0 : x[c][zi - K];
                }
        }
        return w;
    }
}
