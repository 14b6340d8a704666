using GwReprocess.Simulation;
using GwReprocess.Time;
using MathNet.Numerics.IntegralTransforms;

namespace GwReprocess.Tests.Simulation;

/// <summary>BBH injections: schedule, table, light-travel delays, and optimal SNRs checked by a matched filter of the injected strain.</summary>
public sealed class InjectionTests
{
    private static readonly SimulationOptions Options = new() { Witnesses = 0, Injections = new InjectionSettings { Rate = 0.02 } };

    [Fact]
    public void TableSnrsAgreeWithAMatchedFilterOfTheInjectedStrainAgainstTheDesignCurve()
    {
        var span = new Segment(1_126_000_000, 1_126_000_000 + 1024);
        var schedule = new InjectionSchedule(StreamKey.FromSeed(Options.Seed), Options.Ifos, Options.Injections);
        var injections = schedule.Within(span).Take(2).ToList();
        Assert.NotEmpty(injections);
        int fs = Options.StrainRate;
        foreach (var ifo in Options.Ifos)
        {
            var sim = new DetectorSimulator(Options, ifo);
            foreach (var inj in injections)
            {
                // What the simulator injected = strain with injections − strain without, over 32 s ending 4 s after coalescence
                // (waveform buffers of these masses, 10–80 M☉ from 20 Hz, are at most 16 s).
                const int seconds = 32;
                long end = inj.For(ifo).Time.Seconds + 4, start = end - seconds;
                var with = new double[seconds * fs];
                var without = new double[seconds * fs];
                sim.RenderStrain(start, seconds, with, injections: true);
                sim.RenderStrain(start, seconds, without, injections: false);
                var h = new double[seconds * fs + 2];
                for (int i = 0; i < seconds * fs; i++) h[i] = with[i] - without[i];
                // Remove any other injection in this window (rate 0.02/s): only this one is compared.
                foreach (var other in schedule.Within(new Segment(start - 64, end + 64)))
                    if (other.GeocentTime != inj.GeocentTime) Subtract(sim.Waveform(other), start * fs, h.AsSpan(0, seconds * fs));
                int n = seconds * fs;
                Fourier.ForwardReal(h, n, FourierOptions.Matlab);
                double df = (double)fs / n, sum = 0;
                for (int k = 1; k < n / 2; k++)
                {
                    double f = k * df;
                    if (f < 15) continue;
                    double re = h[2 * k] / fs, im = h[2 * k + 1] / fs;
                    sum += (re * re + im * im) / DesignCurve.Psd(f) * df;
                }
                double snr = Math.Sqrt(4 * sum), table = inj.For(ifo).Snr;
                Assert.True(Math.Abs(snr / table - 1) < 0.05, $"{ifo} injection at {inj.GeocentTime} ({inj.Mass1:F1}+{inj.Mass2:F1} M☉): matched filter {snr:F2}, table {table:F2}");
            }
        }
    }

    private static void Subtract(InjectionWaveform w, long firstSample, Span<double> x)
    {
        var neg = new double[x.Length];
        w.AddTo(firstSample, neg);
        for (int i = 0; i < x.Length; i++) x[i] -= neg[i];
    }

    [Fact]
    public void TheChirpRisesInFrequencyAndEndsAtTheDetectorCoalescenceTime()
    {
        var schedule = new InjectionSchedule(StreamKey.FromSeed(3), ["H1"], new InjectionSettings { Rate = 0.05 });
        var inj = schedule.Within(new Segment(1_000_000_000, 1_000_010_240)).First(i => i.Mass1 + i.Mass2 < 50);
        var d = inj.For("H1");
        var w = InjectionWaveform.Create(inj, d, 16384, 20);
        int peak = 0;
        for (int i = 1; i < w.Samples.Length; i++) if (Math.Abs(w.Samples[i]) > Math.Abs(w.Samples[peak])) peak = i;
        double peakTime = (w.FirstSample + peak) / 16384.0;
        double tc = d.Time.Seconds + d.Time.Nanoseconds / 1e9;
        // The 0PN waveform peaks where the ISCO taper starts cutting it, shortly before t_c.
        Assert.InRange(tc - peakTime, -0.005, TaylorF2.TimeToCoalescence(inj.ChirpMass, 0.7 * TaylorF2.IscoFrequency(inj.Mass1 + inj.Mass2)));
        // Zero crossings get closer together towards coalescence: count them in 0.2 s at 25 Hz and at 60 % of f_ISCO.
        double early = tc - TaylorF2.TimeToCoalescence(inj.ChirpMass, 25), late = tc - TaylorF2.TimeToCoalescence(inj.ChirpMass, 0.6 * TaylorF2.IscoFrequency(inj.Mass1 + inj.Mass2));
        int Crossings(double from, double to)
        {
            int c = 0;
            for (long n = (long)(from * 16384) - w.FirstSample; n < (long)(to * 16384) - w.FirstSample; n++)
                if (Math.Sign(w.Samples[n]) != Math.Sign(w.Samples[n + 1])) c++;
            return c;
        }
        Assert.InRange(Crossings(early - 0.1, early + 0.1), 8, 12);
        Assert.True(Crossings(late - 0.2, late) > Crossings(early - 0.1, early + 0.1), $"{Crossings(late - 0.2, late)} crossings late vs {Crossings(early - 0.1, early + 0.1)} early");
    }

    [Fact]
    public void ScheduleIsPoissonAtTheRateWithMassesDelaysAndATableThatRoundTrips()
    {
        var settings = new InjectionSettings { Rate = 0.01 };
        var schedule = new InjectionSchedule(StreamKey.FromSeed(11), ["H1", "L1", "V1"], settings);
        var span = new Segment(1_000_000_000, 1_000_000_000 + 100 * 1024);
        var all = schedule.Within(span);
        Assert.InRange(all.Count, 1024 - 4 * 32, 1024 + 4 * 32);
        foreach (var inj in all)
        {
            Assert.InRange(inj.Mass1, inj.Mass2, 80);
            Assert.InRange(inj.Mass2, 10, inj.Mass1);
            foreach (var a in inj.Detectors)
                foreach (var b in inj.Detectors)
                    Assert.True(Math.Abs((a.Time - b.Time).TotalSeconds) <= 0.010);
        }
        // A sub-span's schedule is the longer schedule's restriction.
        var sub = new Segment(span.Start + GpsDuration.FromSeconds(5000), span.Start + GpsDuration.FromSeconds(9000));
        Assert.Equal(all.Where(i => sub.Contains(i.GeocentTime)).Select(i => i.GeocentTime), schedule.Within(sub).Select(i => i.GeocentTime));

        var text = InjectionTable.Format(["H1", "L1", "V1"], all.Take(20));
        var back = InjectionTable.Parse(text, "test.csv");
        Assert.Equal(20, back.Count);
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(all[i].GeocentTime, back[i].GeocentTime);
            Assert.Equal(all[i].Mass1, back[i].Mass1);
            Assert.Equal(all[i].For("V1").Snr, back[i].For("V1").Snr);
            Assert.Equal(all[i].NetworkSnr, back[i].NetworkSnr, 12);
        }
        Assert.Throws<BadInputException>(() => InjectionTable.Parse("gps,m1\n1,2\n", "bad.csv"));
    }
}
