using StyleFilter.Models;
using Xunit;

namespace StyleFilter.Tests;

/// <summary>bench's GFLOP and kernel columns: read from ONNX Runtime's profiler, checked against hand counts.</summary>
public class NetworkProfileTests
{
    [Fact]
    public void AOneByOneConvolutionCostsTwoFlopPerWeightPerPixel()
    {
        int ProfilesHere() => Directory.GetFiles(Directory.GetCurrentDirectory(), "onnxruntime_profile_*").Length;
        int before = ProfilesHere();
        var p = NetworkProfile.Measure(TestPaths.TestModel("identity.onnx"), 64, 36, intraOpThreads: 1);
        Assert.Equal(before, ProfilesHere()); // every profile went to its temporary folder (loading runs the model too)
        Assert.Equal(2.0 * 3 * 3 * 64 * 36, p.Gflop * 1e9, 6); // 3 outputs x 3 inputs per pixel, multiply and add
        Assert.Equal(1, p.ConvKernels.Values.Sum());
    }

    [Fact]
    public void AFullyConvolutionalNetworkCostsFourTimesAsMuchAtTwiceTheSide()
    {
        var small = NetworkProfile.Measure(TestPaths.TestModel("zoo_dynamic.onnx"), 64, 64, intraOpThreads: 1);
        var large = NetworkProfile.Measure(TestPaths.TestModel("zoo_dynamic.onnx"), 128, 128, intraOpThreads: 1);
        Assert.True(small.Gflop > 0);
        Assert.Equal(4.0, large.Gflop / small.Gflop, 6);
        Assert.Equal(small.ConvKernels, large.ConvKernels);
    }
}
