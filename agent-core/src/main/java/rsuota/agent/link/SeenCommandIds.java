package rsuota.agent.link;

import rsuota.hal.storage.DurableFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The most recent command ids, on disk: one base64url id per line, appended and fsync'd before
 * the command runs, rewritten down to the newest {@code capacity} when the file holds twice that.
 * Older ids fall out; a replay of one of those is still refused by its {@code expiresAt}.
 */
final class SeenCommandIds {

    private final Path file;
    private final int capacity;
    private final ArrayDeque<String> order = new ArrayDeque<>();
    private final Set<String> ids = new HashSet<>();
    private long lines;

    SeenCommandIds(Path file, int capacity) throws IOException {
        if (capacity < 1) throw new IllegalArgumentException("capacity must be >= 1");
        this.file = file;
        this.capacity = capacity;
        if (Files.exists(file)) {
            List<String> all = Files.readAllLines(file, StandardCharsets.US_ASCII);
            for (String line : all) {
                String id = decode(line);
                // A torn last line is an id whose command never ran (it is written first).
                if (id != null) remember(id);
            }
            lines = all.size();
        }
    }

    synchronized boolean contains(String id) {
        return ids.contains(id);
    }

    /** Records {@code id} durably. */
    synchronized void add(String id) throws IOException {
        byte[] line = (Base64.getUrlEncoder().withoutPadding().encodeToString(id.getBytes(StandardCharsets.UTF_8)) + "\n")
                .getBytes(StandardCharsets.US_ASCII);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            DurableFiles.writeFully(ch, ByteBuffer.wrap(line));
            ch.force(true);
        }
        remember(id);
        lines++;
        if (lines >= 2L * capacity) {
            StringBuilder sb = new StringBuilder();
            for (String s : order) sb.append(Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8))).append('\n');
            DurableFiles.writeAtomically(file, sb.toString().getBytes(StandardCharsets.US_ASCII), true);
            lines = order.size();
        }
    }

    private void remember(String id) {
        if (!ids.add(id)) return;
        order.addLast(id);
        while (order.size() > capacity) ids.remove(order.pollFirst());
    }

    private static String decode(String line) {
        if (line.isBlank()) return null;
        try {
            return new String(Base64.getUrlDecoder().decode(line.strip()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException torn) {
            return null;
        }
    }
}
