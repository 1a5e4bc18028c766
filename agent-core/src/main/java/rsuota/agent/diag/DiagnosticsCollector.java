package rsuota.agent.diag;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import rsuota.agent.AgentError;
import rsuota.agent.AgentException;
import rsuota.hal.exec.ExternalCommand;

/**
 * Builds the diagnostics bundle, a {@code .tar.gz} written with the JDK alone:
 * <pre>
 *   config/NAME            the config file, secrets redacted ({@link SecretRedactor})
 *   journal/UNIT.txt       journalctl -u UNIT --no-pager -n N, or why it could not run
 *   state/...              the state directory (key material skipped)
 *   logs/...               the log directory, newest files first
 *   SUMMARY.txt            what is in the bundle, what was cut or skipped, and why
 * </pre>
 * The uncompressed tar stream is capped at {@link DiagnosticsConfig#maxBytes}: entries are added
 * in the order above while they fit, a file that does not fit whole is cut to its newest part
 * (the tail of a log matters most), and what is left out is listed in SUMMARY.txt. Memory use is
 * constant: files are streamed (text files through a redacted temporary copy next to the
 * archive), only the config and journal excerpts are held in memory (each capped).
 *
 * <p>Secrets: the config file, the journal excerpts and every text file of the log and state
 * directories go through {@link SecretRedactor}. Files that hold key material (PEM private keys,
 * {@code *.key}, PKCS#12 and Java keystores) are never included. Binary files (a NUL byte in
 * their first 8 KiB) are included as they are.
 */
public final class DiagnosticsCollector {

    private static final Logger LOG = LoggerFactory.getLogger(DiagnosticsCollector.class);

    /** Room kept for SUMMARY.txt so it always fits. */
    private static final long SUMMARY_RESERVE = 64 * 1024;
    /** Config and journal excerpts are read into memory: each is capped at this. */
    private static final int TEXT_CAP = 1024 * 1024;
    /** A tail shorter than this is not worth including. */
    private static final long MIN_TAIL = 4 * 1024;
    /** Bounds the directory walks: depth and number of files per directory tree. */
    private static final int MAX_DEPTH = 4;
    private static final int MAX_FILES = 500;
    /** Longest line redacted in one piece; longer ones are redacted in pieces of this size. */
    private static final int MAX_LINE = 64 * 1024;
    private static final Pattern KEY_FILE = Pattern.compile("(?i).*\\.(key|p12|pfx|jks|keystore)$");

    private final DiagnosticsConfig config;
    private final Clock clock;
    /** Directory of the archive being written: redacted copies are staged there (same disk, same cleanup). */
    private Path scratch;

    /** Where one archive ended up. */
    public record Archive(Path file, long bytes, String sha256, long tarBytes, List<String> entries, List<String> notes) {
        public Archive {
            entries = List.copyOf(entries);
            notes = List.copyOf(notes);
        }

        public boolean truncated() {
            return notes.stream().anyMatch(n -> n.contains("cut to") || n.contains("left out"));
        }
    }

    public DiagnosticsCollector(DiagnosticsConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
    }

    /** Writes the bundle to {@code out} (replaced if present). */
    public synchronized Archive collect(Path out) throws AgentException {
        Instant now = clock.instant();
        List<String> entries = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        long tarBytes;
        try {
            scratch = out.toAbsolutePath().getParent();
            Files.createDirectories(scratch);
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            try (OutputStream file = Files.newOutputStream(out);
                 OutputStream digesting = new java.security.DigestOutputStream(new BufferedOutputStream(file, 64 * 1024), sha);
                 GZIPOutputStream gz = new GZIPOutputStream(digesting, 64 * 1024)) {
                UstarWriter tar = new UstarWriter(gz);
                Budget budget = new Budget(config.maxBytes() - SUMMARY_RESERVE - 2 * UstarWriter.BLOCK);
                addConfig(tar, budget, now, entries, notes);
                for (String unit : config.units()) addJournal(tar, budget, unit, now, entries, notes);
                addTree(tar, budget, config.stateDir(), "state/", true, entries, notes);
                addTree(tar, budget, config.logDir(), "logs/", false, entries, notes);
                byte[] summary = summary(now, entries, notes);
                tar.add("SUMMARY.txt", summary, now);
                tar.finish();
                tarBytes = tar.written();
            }
            String hex = HexFormat.of().formatHex(sha.digest());
            long size = Files.size(out);
            LOG.info("diagnostics: {} ({} bytes, {} entries, {} notes)", out, size, entries.size(), notes.size());
            return new Archive(out, size, hex, tarBytes, entries, notes);
        } catch (IOException e) {
            throw new AgentException(AgentError.COLLECT_FAILED, "writing " + out + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-256", e);
        }
    }

    /** Remaining room in the tar stream. */
    private static final class Budget {
        long left;

        Budget(long left) {
            this.left = left;
        }

        /** Largest content that still fits with its header and padding. */
        long room() {
            long r = left - UstarWriter.BLOCK;
            return r <= 0 ? 0 : r / UstarWriter.BLOCK * UstarWriter.BLOCK;
        }

        void spend(long contentBytes) {
            left -= UstarWriter.cost(contentBytes);
        }
    }

    private void addConfig(UstarWriter tar, Budget budget, Instant now, List<String> entries, List<String> notes) throws IOException {
        Path cfg = config.configFile();
        if (cfg == null) return;
        if (!Files.isRegularFile(cfg)) {
            notes.add("config " + cfg + ": not found");
            return;
        }
        byte[] raw = readCapped(cfg, TEXT_CAP);
        SecretRedactor.Result r = SecretRedactor.redact(new String(raw, StandardCharsets.UTF_8));
        addText(tar, budget, "config/" + cfg.getFileName(), r.text().getBytes(StandardCharsets.UTF_8), now, entries, notes);
        notes.add("config " + cfg + ": " + r.masked() + " secret values replaced by " + SecretRedactor.MASK);
    }

    private void addJournal(UstarWriter tar, Budget budget, String unit, Instant now, List<String> entries, List<String> notes) throws IOException {
        String name = "journal/" + unit.replaceAll("[^A-Za-z0-9@._-]", "_") + ".txt";
        List<String> command = List.of(config.journalctl(), "-u", unit, "--no-pager", "-n", Integer.toString(config.journalLines()));
        String text;
        try {
            ExternalCommand.Result r = ExternalCommand.run(command, config.toolTimeout());
            if (r.exitCode() == 0) {
                text = "$ " + String.join(" ", command) + "\n" + r.stdout() + (r.stderr().isBlank() ? "" : "\n[stderr]\n" + r.stderr());
            } else {
                text = "journalctl failed: exit code " + r.exitCode() + "\n$ " + String.join(" ", command) + "\n[stderr]\n"
                        + r.stderr() + "\n[stdout]\n" + r.stdout();
                notes.add(name + ": journalctl exited " + r.exitCode());
            }
        } catch (java.io.InterruptedIOException e) {
            Thread.currentThread().interrupt();
            throw e;
        } catch (IOException e) {
            // Missing on a box without systemd, or hung: the bundle says so instead of failing.
            text = "journalctl unavailable: " + e.getMessage() + "\n$ " + String.join(" ", command) + "\n";
            notes.add(name + ": journalctl unavailable (" + e.getMessage() + ")");
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > TEXT_CAP) bytes = java.util.Arrays.copyOfRange(bytes, bytes.length - TEXT_CAP, bytes.length);
        // The journal may quote configuration lines or URLs; it gets the same redaction.
        addText(tar, budget, name, SecretRedactor.redact(new String(bytes, StandardCharsets.UTF_8)).text().getBytes(StandardCharsets.UTF_8),
                now, entries, notes);
    }

    private void addText(UstarWriter tar, Budget budget, String name, byte[] content, Instant now, List<String> entries, List<String> notes)
            throws IOException {
        long room = budget.room();
        if (room < Math.min(content.length, MIN_TAIL)) {
            notes.add(name + ": left out, size cap reached");
            return;
        }
        if (content.length > room) {
            content = java.util.Arrays.copyOfRange(content, (int) (content.length - room), content.length);
            notes.add(name + ": cut to its last " + room + " bytes (size cap)");
        }
        tar.add(name, content, now);
        budget.spend(content.length);
        entries.add(name);
    }

    private void addTree(UstarWriter tar, Budget budget, Path root, String prefix, boolean skipKeys,
                         List<String> entries, List<String> notes) throws IOException {
        if (root == null) return;
        if (!Files.isDirectory(root)) {
            notes.add(prefix + ": " + root + " not found");
            return;
        }
        List<Path> files;
        // No symlinks are followed: a link out of the directory must not pull other files in.
        try (Stream<Path> walk = Files.walk(root, MAX_DEPTH)) {
            files = walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).limit(MAX_FILES + 1L).toList();
        }
        if (files.size() > MAX_FILES) {
            notes.add(prefix + ": more than " + MAX_FILES + " files, the oldest left out");
        }
        // Newest first: under the cap, what happened last is what matters.
        List<Path> sorted = new ArrayList<>(files);
        sorted.sort(Comparator.comparing(DiagnosticsCollector::mtime).reversed());
        for (Path f : sorted.subList(0, Math.min(sorted.size(), MAX_FILES))) {
            String name = prefix + root.relativize(f).toString().replace('\\', '/');
            if (skipKeys && isKeyMaterial(f)) {
                notes.add(name + ": skipped, holds key material");
                continue;
            }
            addFile(tar, budget, f, name, entries, notes);
        }
    }

    private void addFile(UstarWriter tar, Budget budget, Path f, String name, List<String> entries, List<String> notes) throws IOException {
        long size;
        try {
            size = Files.size(f);
        } catch (IOException e) {
            notes.add(name + ": unreadable (" + e.getMessage() + ")");
            return;
        }
        long room = budget.room();
        if (room < Math.min(size, MIN_TAIL)) {
            notes.add(name + ": left out (" + size + " bytes), size cap reached");
            return;
        }
        Path source = f;
        Path redacted = null;
        long start = Math.max(0, size - room);
        boolean cutAtStart = start > 0;
        try {
            if (looksLikeText(f)) {
                // Redacted into a temporary file first: the tar header needs the final size,
                // and streaming keeps memory constant whatever the log size.
                redacted = Files.createTempFile(scratch, ".diag-", ".tmp");
                redactedCopy(f, start, redacted);
                source = redacted;
                start = 0;
            }
            long available = Files.size(source) - start;
            long take = Math.min(available, room);
            try (FileChannel ch = FileChannel.open(source, StandardOpenOption.READ)) {
                ch.position(start + available - take);
                InputStream in = Channels.newInputStream(ch);
                long read = tar.add(name, take, in, mtime(f));
                if (read < take) notes.add(name + ": shrank while read (rotated?), padded with newlines");
            }
            budget.spend(take);
            entries.add(name);
            if (cutAtStart || take < available) notes.add(name + ": cut to its last " + take + " of " + size + " bytes (size cap)");
        } catch (java.nio.file.NoSuchFileException e) {
            // Vanished between listing and reading (rotated away): noted, not fatal. The tar
            // header is only written once the source is open, so the archive stays consistent.
            notes.add(name + ": vanished while collecting");
        } finally {
            if (redacted != null) Files.deleteIfExists(redacted);
        }
    }

    /**
     * Copies {@code src} from {@code start} (from the next line start when inside the file) to
     * {@code dst}, line by line through {@link SecretRedactor}. ISO-8859-1 keeps every byte as it
     * is; lines longer than {@value #MAX_LINE} chars are redacted in pieces.
     */
    private static void redactedCopy(Path src, long start, Path dst) throws IOException {
        try (FileChannel ch = FileChannel.open(src, StandardOpenOption.READ);
             java.io.Reader in = new java.io.BufferedReader(new java.io.InputStreamReader(
                     Channels.newInputStream(ch.position(start)), StandardCharsets.ISO_8859_1), 64 * 1024);
             java.io.Writer out = Files.newBufferedWriter(dst, StandardCharsets.ISO_8859_1)) {
            StringBuilder line = new StringBuilder();
            boolean skipPartial = start > 0 && !atLineStart(src, start);
            int c;
            while ((c = in.read()) >= 0) {
                if (skipPartial) {
                    if (c == '\n') skipPartial = false;
                    continue;
                }
                line.append((char) c);
                if (c == '\n' || line.length() >= MAX_LINE) {
                    out.write(SecretRedactor.redact(line.toString()).text());
                    line.setLength(0);
                }
            }
            if (line.length() > 0) out.write(SecretRedactor.redact(line.toString()).text());
        }
    }

    private static boolean atLineStart(Path f, long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
            return ch.read(b, offset - 1) == 1 && b.get(0) == '\n';
        }
    }

    private static boolean looksLikeText(Path f) throws IOException {
        byte[] head = readCapped(f, 8 * 1024);
        for (byte b : head) if (b == 0) return false;
        return true;
    }

    private static boolean isKeyMaterial(Path f) {
        if (KEY_FILE.matcher(f.getFileName().toString()).matches()) return true;
        try {
            byte[] head = readCapped(f, 64 * 1024);
            return new String(head, StandardCharsets.ISO_8859_1).contains("PRIVATE KEY-----");
        } catch (IOException e) {
            return true; // unreadable: not worth the risk
        }
    }

    private static byte[] readCapped(Path f, int cap) throws IOException {
        try (InputStream in = Files.newInputStream(f)) {
            return in.readNBytes(cap);
        }
    }

    private static Instant mtime(Path p) {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).lastModifiedTime().toInstant();
        } catch (IOException e) {
            return Instant.EPOCH;
        }
    }

    private byte[] summary(Instant now, List<String> entries, List<String> notes) {
        StringBuilder sb = new StringBuilder();
        sb.append("RSU agent diagnostics bundle\n");
        sb.append("collected: ").append(now).append('\n');
        sb.append("size cap (uncompressed): ").append(config.maxBytes()).append(" bytes\n");
        sb.append("journal: ").append(config.journalLines()).append(" lines of ").append(config.units()).append('\n');
        sb.append("\nentries:\n");
        for (String e : entries) sb.append("  ").append(e).append('\n');
        sb.append("\nnotes:\n");
        for (String n : notes) sb.append("  ").append(n).append('\n');
        byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
        // Hundreds of notes could outgrow the reserve; the head of the summary is what a reader needs.
        int max = (int) SUMMARY_RESERVE - UstarWriter.BLOCK;
        return b.length <= max ? b : java.util.Arrays.copyOf(b, max);
    }
}
