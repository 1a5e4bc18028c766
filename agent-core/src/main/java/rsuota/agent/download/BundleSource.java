package rsuota.agent.download;

/**
 * Where bundle bytes come from: an HTTP(S) server with Range, or a local file (a technician's
 * USB stick). Both go through the same verified path.
 */
public interface BundleSource extends AutoCloseable {

    /** What identifies the bytes: a resume is only valid against the same identity. */
    record Identity(long size, String etag) {}

    /** The bytes {@code [offset, offset + length)}, fewer only where the bundle ends. */
    record Fetched(byte[] data, int length, Identity identity) {}

    /**
     * Fetches a range. {@code expected} (nullable) is the identity a resume is bound to: a different
     * size or ETag is the fatal {@code BUNDLE_CHANGED}. {@code into} may be reused between calls.
     */
    Fetched fetch(long offset, int length, Identity expected, byte[] into) throws FetchException, InterruptedException;

    /** Total body bytes received so far, including those of failed attempts. */
    long bytesFetched();

    String describe();

    @Override
    default void close() {}

    /** A URL (http/https) or a file path. */
    static BundleSource open(String source, HttpBundleSource.Options options) {
        if (source.startsWith("http://") || source.startsWith("https://")) {
            return new HttpBundleSource(java.net.URI.create(source), options);
        }
        String path = source.startsWith("file:") ? java.net.URI.create(source).getPath() : source;
        return new FileBundleSource(java.nio.file.Path.of(path));
    }
}
