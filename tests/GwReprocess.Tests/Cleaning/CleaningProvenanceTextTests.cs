using GwReprocess.Cleaning;

namespace GwReprocess.Tests.Cleaning;

/// <summary>The provenance text cleaned frames carry: one cleaner, or the cleaners a noise-sum adds.</summary>
public sealed class CleaningProvenanceTextTests
{
    [Fact]
    public void A_single_cleaner_is_named_with_its_version_and_ensemble()
    {
        var p = new CleaningProvenance("wiener-h1", 101, "gwe2e-v101", 1, "demo");
        Assert.Equal("wiener-h1 version 101 (ensemble gwe2e-v101 version 1)", p.ModelText);
    }

    [Fact]
    public void A_sum_names_the_cleaners_it_adds_in_order_and_itself()
    {
        var p = new CleaningProvenance("noise-sum", 1, "gwe2e-deepclean-v101", 0, "demo") { Summed = [("wiener-h1", 1), ("deepclean-h1", 101)] };
        Assert.Equal("wiener-h1 version 1 plus deepclean-h1 version 101 (summed by noise-sum version 1) (ensemble gwe2e-deepclean-v101 version unknown)", p.ModelText);
    }
}
