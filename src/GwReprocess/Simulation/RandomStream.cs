using System.Runtime.CompilerServices;

namespace GwReprocess.Simulation;

/// <summary>A 64-bit key naming one independent random stream: derived from (seed, purpose, channel, index), never from a running generator.</summary>
/// <remarks>
/// Every random number the simulator draws comes from a stream keyed by what it is for and where it
/// sits on the global GPS grid, so any sub-span can be regenerated alone with identical samples.
/// </remarks>
public readonly record struct StreamKey(ulong Value)
{
    /// <summary>The root key of a simulation seed.</summary>
    public static StreamKey FromSeed(long seed) => new(SplitMix64.Mix(unchecked((ulong)seed) ^ 0x5EED_6A7E_D00D_F00Dul));

    /// <summary>A child key for a named purpose (channel name, "mains", "injections", ...).</summary>
    public StreamKey Derive(string label)
    {
        // FNV-1a over UTF-16 code units: stable across runs and platforms, unlike string.GetHashCode.
        ulong h = 14695981039346656037ul;
        foreach (char c in label) { h ^= c; h = unchecked(h * 1099511628211ul); }
        return new(SplitMix64.Mix(Value ^ SplitMix64.Mix(h)));
    }

    /// <summary>A child key for an integer index (block, chunk, tile).</summary>
    public StreamKey Derive(long index) => new(SplitMix64.Mix(Value ^ SplitMix64.Mix(unchecked((ulong)index + 0x9E3779B97F4A7C15ul))));

    /// <summary>A generator seeded from this key.</summary>
    public Xoshiro256 CreateGenerator() => new(this);
}

/// <summary>SplitMix64 finaliser: a bijective 64-bit mix used to derive keys and seed generators.</summary>
public static class SplitMix64
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mix(ulong z)
    {
        unchecked
        {
            z += 0x9E3779B97F4A7C15ul;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ul;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBul;
            return z ^ (z >> 31);
        }
    }
}

/// <summary>xoshiro256** (Blackman and Vigna): a small, fast generator; one instance per keyed stream.</summary>
public struct Xoshiro256
{
    private ulong _s0, _s1, _s2, _s3;

    public Xoshiro256(StreamKey key)
    {
        unchecked
        {
            ulong z = key.Value;
            _s0 = SplitMix64.Mix(z);
            _s1 = SplitMix64.Mix(z + 0x9E3779B97F4A7C15ul);
            _s2 = SplitMix64.Mix(z + 0x3C6EF372FE94F82Aul);
            _s3 = SplitMix64.Mix(z + 0xDAA66D2C7DDF743Ful);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        ulong result = unchecked(ulong.RotateLeft(_s1 * 5, 7) * 9);
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1ul << 53));

    /// <summary>Uniform in [a, b).</summary>
    public double Uniform(double a, double b) => a + (b - a) * NextDouble();

    /// <summary>One standard normal deviate (Box–Muller; the partner is discarded: use <see cref="FillNormal"/> for bulk).</summary>
    public double NextNormal()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Poisson deviate (Knuth's product method; fine for the small means of injection tiles).</summary>
    public int NextPoisson(double mean)
    {
        if (mean <= 0) return 0;
        if (mean > 500) return Math.Max(0, (int)Math.Round(mean + Math.Sqrt(mean) * NextNormal()));
        double limit = Math.Exp(-mean), p = 1;
        int k = -1;
        do { k++; p *= NextDouble(); } while (p > limit);
        return k;
    }

    /// <summary>Fills <paramref name="destination"/> with standard normal deviates (Box–Muller pairs).</summary>
    public void FillNormal(Span<double> destination)
    {
        int i = 0;
        for (; i + 1 < destination.Length; i += 2)
        {
            double u1 = 1.0 - NextDouble(), u2 = NextDouble();
            double r = Math.Sqrt(-2 * Math.Log(u1));
            var (s, c) = Math.SinCos(2 * Math.PI * u2);
            destination[i] = r * c;
            destination[i + 1] = r * s;
        }
        if (i < destination.Length) destination[i] = NextNormal();
    }
}
