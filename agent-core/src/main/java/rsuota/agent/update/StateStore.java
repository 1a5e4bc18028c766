package rsuota.agent.update;

import java.io.IOException;
import rsuota.json.JsonDataException;
import rsuota.json.RecordJson;
import rsuota.hal.storage.DurableFiles;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The engine's state file, written the only way that survives a power cut at any instant: temp
 * file, fsync, rename over the old one, fsync of the directory (so the rename itself is durable).
 * A reader sees the old or the new record, never a mix.
 */
public final class StateStore {
    static final String FILE = "engine.json";

    /**
     * jackson-core only (no databind on a unit): written indented, unknown fields skipped (newer agents may add
     * fields; older ones keep working) and missing ones null, 0 or false.
     */
    private static final RecordJson JSON = RecordJson.lenient();

    private final Path dir;

    public StateStore(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /** The persisted state, or the initial one when none was ever written. */
    public EngineState load(java.time.Instant now) throws IOException {
        try {
            return JSON.read(Files.readAllBytes(dir.resolve(FILE)), EngineState.class);
        } catch (NoSuchFileException e) {
            return EngineState.initial(now);
        } catch (JsonDataException e) {
            // Atomic rename means a torn file is impossible; a corrupt one was changed by hand or by failing flash.
            throw new IOException("state file " + dir.resolve(FILE) + " is corrupt (" + e.getMessage()
                    + "); move it aside to start over, the slots are not touched", e);
        }
    }

    /**
     * Persists a state change, refused (IllegalStateException, nothing written) unless
     * {@link UpdateTransitions} has the row {@code from.state()} on {@code event} to {@code next.state()}:
     * the table is the whole graph, no code path changes the state beside it.
     */
    public void transition(EngineState from, UpdateEvent event, EngineState next) throws IOException {
        UpdateState to = UpdateTransitions.next(from.state(), event);
        if (next.state() != to) {
            throw new IllegalStateException("transition " + from.state() + " on " + event + " leads to " + to + ", not " + next.state());
        }
        write(next);
    }

    /**
     * Persists a change within the current state (order, activation progress, slots, last error, re-entries);
     * refused (IllegalStateException, nothing written) when it changes the state: that is {@link #transition}'s.
     */
    public void amend(EngineState from, EngineState next) throws IOException {
        if (next.state() != from.state()) {
            throw new IllegalStateException("state change " + from.state() + " -> " + next.state()
                    + " outside UpdateTransitions: persist it with transition(from, event, next)");
        }
        write(next);
    }

    private void write(EngineState s) throws IOException {
        writeAtomically(dir.resolve(FILE), JSON.write(s));
    }

    /** The codec of the agent's own state files (also {@link Progress}). */
    static RecordJson json() {
        return JSON;
    }

    private static void writeAtomically(Path file, byte[] bytes) throws IOException {
        DurableFiles.writeAtomically(file, bytes, true);
    }
}
