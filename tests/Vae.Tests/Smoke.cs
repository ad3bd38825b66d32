namespace Vae.Tests; public class Smoke { [Xunit.Fact] public void Cpu_backend_constructs() { using var b = new Vae.Cpu.CpuBackend(1); Xunit.Assert.Equal("cpu", b.Name); } }
