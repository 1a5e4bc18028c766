package rsuota.bundle;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import rsuota.json.JsonDataException;
import rsuota.json.RecordJson;

/**
 * Manifest JSON: strict parsing (unknown fields, wrong types, missing fields and inconsistent
 * numbers are all {@link Reason#MALFORMED_MANIFEST}) and a stable encoding for signing.
 */
public final class ManifestCodec {
    private ManifestCodec() {}

    /** Largest dictionary prefix: a unit holds this many bytes to decode a chunk. */
    static final int MAX_PREFIX = 8 * 1024 * 1024;
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,63}");

    /**
     * jackson-core only ({@link RecordJson}): unknown, missing, duplicate, null-for-number, coerced and trailing
     * input refused; nesting deeper than a manifest ever needs is hostile and refused early. Written with sorted keys
     * and no whitespace. {@code cdc} (written only when present) is the one field a manifest may leave out: format 1.
     */
    private static final RecordJson JSON = RecordJson.strict(true, 16, 1024 * 1024);

    /** For {@code rsu-bundle inspect}'s pretty output only (a workstation tool): databind, loaded when asked for. */
    private static final class Pretty {
        static final ObjectMapper MAPPER = JsonMapper.builder()
                .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
                .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
                .build();
    }

    /** Stable UTF-8 bytes for a manifest: sorted keys, no whitespace. These are the bytes that get signed. */
    public static byte[] encode(Manifest m) {
        return JSON.write(m);
    }

    /** Parses and validates; every problem is a {@link BundleException} naming the field. */
    public static Manifest decode(byte[] bytes) throws BundleException {
        if (bytes.length > BundleFormat.MAX_MANIFEST_BYTES) {
            throw new BundleException(Reason.MANIFEST_TOO_LARGE,
                    "manifest is " + bytes.length + " bytes, limit " + BundleFormat.MAX_MANIFEST_BYTES);
        }
        try {
            return checked(() -> JSON.read(bytes, Manifest.class));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("reading a byte array failed", e);
        }
    }

    private interface Read {
        Manifest read() throws JsonDataException, java.io.IOException;
    }

    private static Manifest checked(Read r) throws BundleException, java.io.IOException {
        Manifest m;
        try {
            m = r.read();
        } catch (JsonDataException e) {
            throw new BundleException(Reason.MALFORMED_MANIFEST,
                    "manifest is not valid JSON of the expected shape: " + firstLine(e.getMessage()));
        }
        if (m == null) {
            throw new BundleException(Reason.MALFORMED_MANIFEST, "manifest is JSON null");
        }
        validate(m);
        return m;
    }

    /** As {@link #decode(byte[])}, as the bytes stream in (a unit's kept header: {@link BundleHeader#readSpooled}); the caller bounds the stream. */
    public static Manifest decode(java.io.InputStream in) throws BundleException, java.io.IOException {
        return checked(() -> JSON.read(in, Manifest.class));
    }

    /**
     * As {@link #decode(java.io.InputStream)}, each format 2 image's identities and stored table written to
     * {@code tables} block by block as they are parsed ({@link SpilledTables}), so that the heap never holds them.
     */
    static Manifest decode(java.io.InputStream in, SpilledTables.Writer tables) throws BundleException, java.io.IOException {
        RecordJson json = JSON.withSinks(c -> c == DigestList.Sink.class ? new DigestList.Sink(tables)
                : c == StoredList.Sink.class ? new StoredList.Sink(tables) : null);
        try {
            return checked(() -> json.read(in, Manifest.class));
        } catch (java.io.UncheckedIOException e) {
            // its message names the tables file and the step; the cause's alone would say only the OS error
            throw new java.io.IOException(e.getMessage(), e.getCause());
        }
    }

    public static String toPrettyJson(Object o) {
        try {
            return Pretty.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static void validate(Manifest m) throws BundleException {
        require(m.release() != null && NAME.matcher(m.release()).matches(), "release",
                "must be a version string like 2.4.0 (letters, digits, . _ + -)");
        require(m.securityVersion() >= 0, "securityVersion", "must be >= 0");
        require(m.compatible() != null && !m.compatible().isEmpty(), "compatible", "must list at least one variant");
        for (String v : m.compatible()) {
            require(v != null && NAME.matcher(v).matches(), "compatible", "bad variant id '" + v + "'");
        }
        require(m.components() != null, "components", "is missing");
        for (Map.Entry<String, String> c : m.components().entrySet()) {
            require(c.getValue() != null && NAME.matcher(c.getValue()).matches(), "components." + c.getKey(),
                    "must be a version string");
        }
        require(m.createdAt() != null, "createdAt", "is missing");
        try {
            Instant.parse(m.createdAt());
        } catch (DateTimeParseException e) {
            throw new BundleException(Reason.MALFORMED_MANIFEST, "manifest field createdAt: not an ISO-8601 instant: " + m.createdAt());
        }
        List<ManifestImage> images = m.images();
        require(images != null && !images.isEmpty(), "images", "must list at least one image");
        require(images.size() <= BundleFormat.MAX_IMAGES, "images", "more than " + BundleFormat.MAX_IMAGES + " images");
        Set<String> classes = new HashSet<>();
        long expectedOffset = 0;
        for (int i = 0; i < images.size(); i++) {
            ManifestImage im = images.get(i);
            String where = "images[" + i + "]";
            require(im != null, where, "is null");
            require(im.slotClass() != null && NAME.matcher(im.slotClass()).matches(), where + ".slotClass", "bad slot class");
            require(classes.add(im.slotClass()), where + ".slotClass", "duplicate slot class " + im.slotClass());
            require(im.size() > 0 && im.size() <= BundleFormat.MAX_IMAGE_SIZE, where + ".size",
                    im.size() + " is outside 1.." + BundleFormat.MAX_IMAGE_SIZE);
            require(im.offset() == expectedOffset, where + ".offset",
                    "is " + im.offset() + " but images must be contiguous: expected " + expectedOffset);
            require(im.chunkSize() >= BundleFormat.MIN_CHUNK_SIZE && im.chunkSize() <= BundleFormat.MAX_CHUNK_SIZE,
                    where + ".chunkSize", im.chunkSize() + " is outside " + BundleFormat.MIN_CHUNK_SIZE + ".." + BundleFormat.MAX_CHUNK_SIZE);
            require(im.sha256() != null && HEX64.matcher(im.sha256()).matches(), where + ".sha256", "must be 64 lower-case hex digits");
            require(im.chunks() != null, where + ".chunks", "is missing");
            require(im.compressed() == images.get(0).compressed(), where + ".cdc", "images must all be format 1 or all format 2");
            if (im.compressed()) {
                validateCdc(im, where);
            } else {
                long expected = ManifestImage.expectedChunks(im.size(), im.chunkSize());
                require(im.chunks().size() == expected, where + ".chunks",
                        "has " + im.chunks().size() + " entries but " + im.size() + " bytes at chunk size " + im.chunkSize()
                                + " need exactly " + expected + ": the chunk list must cover the image exactly");
            }
            // a packed list holds canonical digests only (DigestList.pack): nothing to check entry by entry
            if (!(im.chunks() instanceof DigestList)) {
                for (int c = 0; c < im.chunks().size(); c++) {
                    String h = im.chunks().get(c);
                    require(h != null && HEX64.matcher(h).matches(), where + ".chunks[" + c + "]", "must be 64 lower-case hex digits");
                }
            }
            expectedOffset += im.storedSize();
        }
    }

    /** Format 2: the stored list covers the image exactly, every length within the chunker's bounds. */
    private static void validateCdc(ManifestImage im, String where) throws BundleException {
        ManifestImage.Cdc cdc = im.cdc();
        require(cdc.stored() != null, where + ".cdc.stored", "is missing");
        require("zstd".equals(cdc.compression()), where + ".cdc.compression", "must be \"zstd\"");
        require(cdc.prefix() >= 0 && cdc.prefix() <= MAX_PREFIX, where + ".cdc.prefix", cdc.prefix() + " is outside 0.." + MAX_PREFIX);
        try {
            new Chunking(cdc.min(), cdc.avg(), im.chunkSize());
        } catch (IllegalArgumentException e) {
            throw new BundleException(Reason.MALFORMED_MANIFEST, "manifest field " + where + ".cdc: " + e.getMessage());
        }
        require(cdc.stored().size() == im.chunks().size(), where + ".cdc.stored",
                "has " + cdc.stored().size() + " entries for " + im.chunks().size() + " chunks");
        int maxStored = ChunkCodec.compressBound(im.chunkSize());
        long sum = 0;
        int n = cdc.stored().size();
        if (cdc.stored() instanceof StoredList t) {
            // packed: its digests are canonical (StoredList.Sink); the lengths are checked block by block, no record made
            for (int b = 0; b < t.blockCount(); b++) {
                StoredList.Block k = t.block(b);
                for (int i = 0; i < k.lengths().length; i++) {
                    int c = b * DigestList.BLOCK + i;
                    checkLengths(im, where, c, c == n - 1, k.lengths()[i], k.storedLengths()[i], maxStored);
                    sum += k.lengths()[i];
                }
            }
        } else {
            for (int c = 0; c < n; c++) {
                ManifestImage.Stored st = cdc.stored().get(c);
                String at = where + ".cdc.stored[" + c + "]";
                require(st != null, at, "is null");
                checkLengths(im, where, c, c == n - 1, st.length(), st.storedLength(), maxStored);
                require(st.storedSha256() != null && HEX64.matcher(st.storedSha256()).matches(), at, "stored SHA-256 must be 64 lower-case hex digits");
                sum += st.length();
            }
        }
        require(sum == im.size(), where + ".cdc.stored", "lengths add up to " + sum + " but the image is " + im.size() + " bytes");
    }

    /** Chunk {@code c}'s lengths within the chunker's bounds (the last may be short) and its stored length within zstd's bound. */
    private static void checkLengths(ManifestImage im, String where, int c, boolean last, int length, int storedLength, int maxStored)
            throws BundleException {
        int min = last ? 1 : im.cdc().min();
        if (length >= min && length <= im.chunkSize() && storedLength >= 1 && storedLength <= maxStored) return;
        String at = where + ".cdc.stored[" + c + "]";
        require(length >= min && length <= im.chunkSize(), at, "length " + length + " is outside " + min + ".." + im.chunkSize());
        require(false, at, "stored length " + storedLength + " is outside 1.." + maxStored);
    }

    private static void require(boolean ok, String field, String what) throws BundleException {
        if (!ok) {
            throw new BundleException(Reason.MALFORMED_MANIFEST, "manifest field " + field + ": " + what);
        }
    }

    static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Components as an ordered map for display. */
    public static Map<String, String> sortedComponents(Manifest m) {
        return new LinkedHashMap<>(new java.util.TreeMap<>(m.components()));
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
