using GwReprocess.Dsp;

namespace GwReprocess.Tests.Dsp;

/// <summary>Section coefficients equal SciPy 1.10.1's <c>butter(..., fs=4096, output='sos')</c> (values printed by SciPy), including odd orders and their pairing.</summary>
public class ButterworthDesignTests
{
    [Fact]
    public void OddOrderLowpassPairsTheRealPoleFirst()
    {
        double[] scipy = [0.00038926246393671573, 0.0007785249278734315, 0.00038926246393671573, 1.0, -0.8572692407374277, 0.0, 1.0, 1.0, 0.0, 1.0, -1.836229765623944, 0.8580477656653009];
        AssertClose(scipy, Butterworth.Lowpass(3, 100, 4096));
    }

    [Fact]
    public void OddOrderBandpassMatches()
    {
        double[] scipy = [0.0025059470392545065, 0.005011894078509013, 0.0025059470392545065, 1.0, -0.9741248649410427, 0.3112731809561444, 1.0, 2.0, 1.0, 1.0, -1.206093436214317, 0.6680601771935577, 1.0, 0.0, -1.0, 1.0, -1.4255127384325905, 0.4432695138908644, 1.0, -2.0, 1.0, 1.0, -1.9496700970381793, 0.9506830232732052, 1.0, -2.0, 1.0, 1.0, -1.9814262353477994, 0.982371043726653];
        AssertClose(scipy, Butterworth.Bandpass(5, 20, 500, 4096));
    }

    [Fact]
    public void OddOrderHighpassMatches()
    {
        double[] scipy = [0.9017513661462194, -0.9017513661462194, 0.0, 1.0, -0.9550078912301362, 0.0, 1.0, -2.0, 1.0, 1.0, -1.9183710280286441, 0.920404173010599, 1.0, -2.0, 1.0, 1.0, -1.9421760916634772, 0.9442344659389145, 1.0, -2.0, 1.0, 1.0, -1.9776381551184314, 0.9797341131121953];
        AssertClose(scipy, Butterworth.Highpass(7, 30, 4096));
    }

    [Fact]
    public void StepInitialStateMatchesSosfiltZi()
    {
        double[] scipy = [0.010519737556741812, 0.00038926246393671573, 0.9890909999793258, -0.8580477656653047];
        var zi = Butterworth.Lowpass(3, 100, 4096).StepInitialState();
        Assert.Equal(scipy.Length, zi.Length);
        for (int i = 0; i < zi.Length; i++) Assert.True(Math.Abs(zi[i] - scipy[i]) <= 1e-12, $"zi[{i}] = {zi[i]:R}, SciPy {scipy[i]:R}");
    }

    private static void AssertClose(double[] expected, SecondOrderSections actual)
    {
        var c = actual.Coefficients;
        Assert.Equal(expected.Length, c.Length);
        for (int i = 0; i < c.Length; i++)
            Assert.True(Math.Abs(c[i] - expected[i]) <= 1e-12 * Math.Max(1, Math.Abs(expected[i])), $"coefficient {i}: {c[i]:R}, SciPy {expected[i]:R}");
    }
}
