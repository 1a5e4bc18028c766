package rsuota.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bundle whose manifest is larger than a unit accepts is refused when it is written, saying how to
 * make it smaller, instead of being refused by every unit it is sent to (MANIFEST_TOO_LARGE there).
 */
class ManifestSizeLimitTest {
    @TempDir
    Path tmp;

    @Test
    void aManifestOverTheUnitsLimitIsRefusedAtCreateWithTheWayOut() throws Exception {
        // format 2 at ~150 bytes a chunk: 60,000 chunks are over 8 MiB
        Manifest m = CompactManifestTablesTest.manifest(CompactManifestTablesTest.image(60_000));
        assertThat(ManifestCodec.encode(m).length).isGreaterThan(BundleFormat.MAX_MANIFEST_BYTES);
        Path payload = tmp.resolve("payload");
        try (RandomAccessFile f = new RandomAccessFile(payload.toFile(), "rw")) {
            f.setLength(m.payloadSize()); // sparse: the size is all that is checked before the manifest
        }
        Path out = tmp.resolve("big.rsub");
        try (FileChannel ch = FileChannel.open(payload, StandardOpenOption.READ)) {
            BundleException e = catchThrowableOfType(() -> BundleWriter.assemble(m, null, ch, out), BundleException.class);
            assertThat(e.reason()).isEqualTo(Reason.MANIFEST_TOO_LARGE);
            assertThat(e.getMessage()).contains("60000 chunks").contains("more than the 8388608 a unit accepts")
                    .contains("--chunk-avg 256KiB");
        }
        assertThat(out).as("nothing written").doesNotExist();
        // within the limit: written, and a unit reads it back
        Manifest fits = CompactManifestTablesTest.manifest(CompactManifestTablesTest.image(1_000));
        Path small = tmp.resolve("payload-small");
        try (RandomAccessFile f = new RandomAccessFile(small.toFile(), "rw")) {
            f.setLength(fits.payloadSize());
        }
        try (FileChannel ch = FileChannel.open(small, StandardOpenOption.READ)) {
            BundleWriter.assemble(fits, null, ch, out);
        }
        assertThat(BundleHeader.readSpooled(out).manifest()).isEqualTo(fits);
        assertThat(Files.size(out)).isGreaterThan(fits.payloadSize());
    }
}
