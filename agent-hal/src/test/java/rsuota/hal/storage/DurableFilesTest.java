package rsuota.hal.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whole-file reads and atomic writes larger than one I/O slice come back byte for byte. */
class DurableFilesTest {
    @TempDir
    Path dir;

    static byte[] random(int n) {
        byte[] b = new byte[n];
        new SplittableRandom(n).nextBytes(b);
        return b;
    }

    @Test
    void filesOfManySlicesAndOfNoneRoundTrip() throws IOException {
        for (int n : new int[] {0, 1, DurableFiles.WRITE_SLICE - 1, DurableFiles.WRITE_SLICE, DurableFiles.WRITE_SLICE + 1, 2 * 1024 * 1024 + 17}) {
            Path f = dir.resolve("f" + n);
            byte[] content = random(n);
            DurableFiles.writeAtomically(f, content);
            assertThat(Files.readAllBytes(f)).as("%d bytes written", n).isEqualTo(content);
            assertThat(DurableFiles.readAll(f)).as("%d bytes read", n).isEqualTo(content);
            assertThat(dir.resolve("f" + n + DurableFiles.TMP_SUFFIX)).doesNotExist();
        }
    }

    @Test
    void aStreamedWriteReplacesTheFileWhole() throws IOException {
        Path f = dir.resolve("index");
        DurableFiles.writeAtomically(f, "old\n".getBytes(StandardCharsets.US_ASCII));
        DurableFiles.writeAtomically(f, out -> {
            for (int i = 0; i < 20_000; i++) out.write(("line " + i + "\n").getBytes(StandardCharsets.US_ASCII));
        });
        var lines = Files.readAllLines(f);
        assertThat(lines).hasSize(20_000).startsWith("line 0").endsWith("line 19999");
    }

    @Test
    void aStreamedWriteThatFailsLeavesTheOldVersion() throws IOException {
        Path f = dir.resolve("index");
        DurableFiles.writeAtomically(f, "old\n".getBytes(StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> DurableFiles.writeAtomically(f, out -> {
            out.write(random(300_000));
            throw new IOException("disk full (simulated)");
        })).hasMessageContaining("disk full");
        assertThat(Files.readString(f)).isEqualTo("old\n");
    }

    @Test
    void readingAMissingFileSaysSo() {
        assertThatThrownBy(() -> DurableFiles.readAll(dir.resolve("nope"))).isInstanceOf(NoSuchFileException.class);
    }
}
