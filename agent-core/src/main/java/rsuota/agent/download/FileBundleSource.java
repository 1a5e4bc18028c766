package rsuota.agent.download;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import rsuota.agent.AgentError;

/** A bundle on local storage (USB stick). Identity = size + modification time. */
public final class FileBundleSource implements BundleSource {
    private final Path file;
    private long fetched;

    public FileBundleSource(Path file) {
        this.file = file;
    }

    @Override
    public Fetched fetch(long offset, int length, Identity expected, byte[] into) throws FetchException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            BasicFileAttributes a = java.nio.file.Files.readAttributes(file, BasicFileAttributes.class);
            Identity id = new Identity(a.size(), "mtime-" + a.lastModifiedTime().toMillis());
            if (expected != null && !expected.equals(id)) {
                throw new FetchException(AgentError.BUNDLE_CHANGED, file + " changed since the install started (" + expected + " -> " + id + ")");
            }
            int n = (int) Math.max(0, Math.min(length, a.size() - offset));
            byte[] buf = into != null && into.length >= n ? into : new byte[n];
            ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
            long pos = offset;
            while (bb.position() < n) {
                // a slice at a time: the JDK reads a heap buffer through a temporary direct buffer of the
                // read's size and keeps it for the thread (4 MiB for a format 1 chunk)
                bb.limit(Math.min(n, bb.position() + SlotFiller.WRITE_SLICE));
                int r = ch.read(bb, pos);
                if (r < 0) throw new FetchException(AgentError.BUNDLE_CHANGED, file + " shrank while reading");
                pos += r;
                fetched += r;
            }
            return new Fetched(buf, n, id);
        } catch (NoSuchFileException e) {
            throw new FetchException(AgentError.NOT_FOUND, "bundle file " + file + " does not exist (is the USB stick mounted?)");
        } catch (IOException e) {
            // A flaky USB stick: worth a retry.
            throw new FetchException(AgentError.READ_ERROR, "cannot read " + file + ": " + e.getMessage());
        }
    }

    @Override
    public long bytesFetched() {
        return fetched;
    }

    @Override
    public String describe() {
        return file.toString();
    }
}
