// Lets the GEMM tests ask which orientation PackedGemm picks for a shape, so that they can be sure to cover both.
using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Vae.Tests")]
