package rsuota.hal.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import rsuota.hal.boot.Slot;

class FileSlotStorageTest {

    static final long SIZE = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void createSimulatedMakesTwoSlotsOfTheGivenSize() throws Exception {
        FileSlotStorage storage = FileSlotStorage.createSimulated(dir.resolve("slots"), SIZE);

        assertThat(storage.path(Slot.A)).isEqualTo(dir.resolve("slots/slot-a.img")).isRegularFile();
        assertThat(storage.path(Slot.B)).isEqualTo(dir.resolve("slots/slot-b.img")).isRegularFile();
        assertThat(storage.size(Slot.A)).isEqualTo(SIZE);
        assertThat(storage.size(Slot.B)).isEqualTo(SIZE);
        assertThat(storage.describe(Slot.B)).isEqualTo(dir.resolve("slots/slot-b.img").toString());
    }

    @Test
    void positionalWritesNeverTruncateOrMoveOtherBytes() throws Exception {
        FileSlotStorage storage = FileSlotStorage.createSimulated(dir, SIZE);
        byte[] pattern = new byte[(int) SIZE];
        Arrays.fill(pattern, (byte) 0x5A);
        try (FileChannel ch = storage.openForWrite(Slot.B)) {
            writeFully(ch, pattern, 0);
            ch.force(true);
        }

        // A resumed install opens the slot again and writes one chunk in the middle.
        byte[] chunk = "chunk-7".getBytes(StandardCharsets.US_ASCII);
        try (FileChannel ch = storage.openForWrite(Slot.B)) {
            assertThat(ch.size()).as("opened without truncation").isEqualTo(SIZE);
            writeFully(ch, chunk, 4096);
        }

        byte[] expected = pattern.clone();
        System.arraycopy(chunk, 0, expected, 4096, chunk.length);
        assertThat(storage.size(Slot.B)).isEqualTo(SIZE);
        assertThat(Files.readAllBytes(storage.path(Slot.B))).isEqualTo(expected);
        // The other slot is untouched.
        assertThat(Files.readAllBytes(storage.path(Slot.A))).containsOnly(0);
    }

    @Test
    void openForReadReadsWhatWasWrittenAndCannotWrite() throws Exception {
        FileSlotStorage storage = FileSlotStorage.createSimulated(dir, SIZE);
        try (FileChannel ch = storage.openForWrite(Slot.A)) {
            writeFully(ch, new byte[] {1, 2, 3}, 10);
        }
        try (FileChannel ch = storage.openForRead(Slot.A)) {
            ByteBuffer buf = ByteBuffer.allocate(3);
            ch.read(buf, 10);
            assertThat(buf.array()).containsExactly(1, 2, 3);
            assertThatThrownBy(() -> ch.write(ByteBuffer.wrap(new byte[] {9}), 0))
                    .isInstanceOf(java.nio.channels.NonWritableChannelException.class);
        }
    }

    @Test
    void createSimulatedAgainKeepsWhatTheSlotsHold() throws Exception {
        FileSlotStorage storage = FileSlotStorage.createSimulated(dir, SIZE);
        try (FileChannel ch = storage.openForWrite(Slot.A)) {
            writeFully(ch, new byte[] {42}, 100);
        }
        FileSlotStorage again = FileSlotStorage.createSimulated(dir, SIZE);
        assertThat(Files.readAllBytes(again.path(Slot.A))[100]).isEqualTo((byte) 42);
    }

    @Test
    void aMissingPathIsAnErrorNamingSlotAndPathAndIsNeverCreated() {
        Path missingA = dir.resolve("mmcblk0p2");
        FileSlotStorage storage = new FileSlotStorage(missingA, dir.resolve("mmcblk0p3"));

        assertThatThrownBy(() -> storage.openForWrite(Slot.A)).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining(missingA.toString())
                .hasMessageContaining("slot A storage does not exist");
        assertThatThrownBy(() -> storage.openForRead(Slot.A)).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining(missingA.toString());
        assertThatThrownBy(() -> storage.size(Slot.A)).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining(missingA.toString());
        assertThat(missingA).doesNotExist();
    }

    @Test
    void aNonPositiveSimulatedSizeIsRefused() {
        assertThatThrownBy(() -> FileSlotStorage.createSimulated(dir, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    static void writeFully(FileChannel ch, byte[] bytes, long position) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        long pos = position;
        while (buf.hasRemaining()) pos += ch.write(buf, pos);
    }
}
