// AtomicFile: a successful write replaces the file; a writer that fails midway leaves the previous file byte for
// byte as it was (or no file at all), propagates its exception and leaves no temporary file behind.
using System.Text;
using Vae.IO;
using Vae.Tests.Support;
using Xunit;

namespace Vae.Tests.IO;

public sealed class AtomicFileTests : IDisposable
{
    readonly ScratchDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new System.Random(seed).NextBytes(bytes);
        return bytes;
    }

    string[] FolderContents() => [.. Directory.GetFileSystemEntries(_folder.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    [Fact]
    public void A_successful_write_replaces_the_old_content()
    {
        string path = _folder.File("checkpoint.bin");
        byte[] old = Bytes(100_000, 1), fresh = Bytes(5_000, 2);
        File.WriteAllBytes(path, old);

        AtomicFile.Write(path, stream => stream.Write(fresh));

        Assert.Equal(fresh, File.ReadAllBytes(path));
        Assert.Equal(["checkpoint.bin"], FolderContents());
    }

    [Fact]
    public void A_failing_writer_leaves_the_old_file_byte_identical_and_no_temporary_file()
    {
        string path = _folder.File("checkpoint.bin");
        byte[] old = Bytes(70_000, 3);
        File.WriteAllBytes(path, old);

        var error = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(Bytes(200_000, 4)); // more than the buffer: part of it has reached the temporary file
            throw new InvalidOperationException("disk full, say");
        }));

        Assert.Equal("disk full, say", error.Message);
        Assert.Equal(old, File.ReadAllBytes(path));
        Assert.Equal(["checkpoint.bin"], FolderContents());
    }

    [Fact]
    public void A_failing_first_write_creates_nothing()
    {
        string path = _folder.File("new.png");
        Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.WriteByte(1);
            throw new IOException("writer failed");
        }));
        Assert.Empty(FolderContents());
    }

    [Fact]
    public void Missing_folders_are_created_and_text_is_written_as_UTF8_without_a_byte_order_mark()
    {
        string path = Path.Combine(_folder.Path, "runs", "a", "loss.svg");
        AtomicFile.WriteAllText(path, "épocas: 3 ✓");
        Assert.Equal(Encoding.UTF8.GetBytes("épocas: 3 ✓"), File.ReadAllBytes(path));

        AtomicFile.WriteAllBytes(path, [1, 2, 3]);
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        Assert.Equal(["loss.svg"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
    }

    [Fact]
    public void Arguments_are_checked()
    {
        Assert.Throws<ArgumentException>(() => AtomicFile.Write("", _ => { }));
        Assert.Throws<ArgumentNullException>(() => AtomicFile.Write(_folder.File("x"), null!));
        Assert.Empty(FolderContents());
    }
}
