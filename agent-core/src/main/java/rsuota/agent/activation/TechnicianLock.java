package rsuota.agent.activation;

import rsuota.json.JsonDataException;
import rsuota.json.RecordJson;
import rsuota.hal.storage.DurableFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * The technician's lock ({@code rsu-agent lock --reason TEXT} / {@code unlock}): a small JSON file
 * in the state directory, so it survives agent restarts and reboots, and the CLI and the daemon
 * (two processes) share it without a socket. Written atomically: a power cut during {@code lock}
 * leaves the box locked or unlocked, never with a torn file.
 *
 * <p>As an {@link Inhibitor} it holds while the file exists. A file that cannot be read or parsed
 * also holds (someone meant to lock), with a reason that says how to clear it.
 */
public final class TechnicianLock implements Inhibitor {

    public static final String FILE = "technician.lock";
    /** Written by a local install: the unit is the technician's until unlock (docs/operations.md, "A technician on the unit"). */
    public static final String MANAGED_FILE = "locally-managed.json";

    /** A local install made the unit locally managed: by whom, when, from where. */
    public record Managed(String by, Instant at, String source) {}

    /** @param by who locked (user name or badge), @param at when */
    public record Lock(String reason, String by, Instant at) {}

    /** jackson-core only (no databind on a unit); unknown fields skipped, written indented. */
    private static final RecordJson JSON = RecordJson.lenient();

    private final Path file;
    private final Path managed;

    /** @param stateDir the agent's state directory (created on first lock) */
    public TechnicianLock(Path stateDir) {
        this.file = stateDir.resolve(FILE);
        this.managed = stateDir.resolve(MANAGED_FILE);
    }

    /** Marks the unit locally managed (a technician installed on it): the controller's orders wait for unlock. */
    public void markLocallyManaged(String by, Instant at, String source) throws IOException {
        DurableFiles.writeAtomically(managed, JSON.write(new Managed(by, at, source)));
    }

    /** Whether a local install made the unit locally managed; an unreadable marker counts (someone meant it). */
    public Optional<Managed> locallyManaged() {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(managed);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(new Managed("unknown", null, "unreadable " + managed + ": " + e.getMessage()));
        }
        try {
            return Optional.of(JSON.read(bytes, Managed.class));
        } catch (IOException e) {
            return Optional.of(new Managed("unknown", null, "unreadable " + managed));
        }
    }

    public Path file() {
        return file;
    }

    /** Locks (or replaces the current lock's reason). {@code reason} and {@code by} must not be blank. */
    public void lock(String reason, String by, Instant at) throws IOException {
        if (reason == null || reason.isBlank()) throw new IllegalArgumentException("a technician lock needs a reason (--reason TEXT)");
        if (by == null || by.isBlank()) throw new IllegalArgumentException("a technician lock needs to say who locked");
        DurableFiles.writeAtomically(file, JSON.write(new Lock(reason.strip(), by.strip(), at)));
    }

    /** Removes the lock and the locally-managed mark; returns whether there was either. */
    public boolean unlock() throws IOException {
        boolean locked = DurableFiles.delete(file);
        return DurableFiles.delete(managed) | locked;
    }

    /** The current lock, or empty. Throws when the file exists but cannot be read or parsed. */
    public Optional<Lock> current() throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        try {
            Lock l = JSON.read(bytes, Lock.class);
            if (l == null || l.reason() == null) throw new IOException("lock file " + file + " has no reason");
            return Optional.of(l);
        } catch (JsonDataException e) {
            throw new IOException("lock file " + file + " is not valid (" + e.getMessage() + ")", e);
        }
    }

    @Override
    public String name() {
        return "technician lock";
    }

    @Override
    public Optional<String> holdReason() {
        try {
            return current().map(l -> "technician lock by " + l.by() + " since " + l.at() + ": " + l.reason());
        } catch (IOException e) {
            return Optional.of("technician lock file unreadable, holding to be safe: " + e.getMessage()
                    + "; run 'rsu-agent unlock' to clear it");
        }
    }
}
