package rsuota.agent.update;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Download progress, written beside the state file after each durable chunk so that
 * {@code rsu-agent status} in another process can show it. Not a transition: losing the last
 * update to a power cut only makes the numbers slightly old.
 *
 * @param bytesFetched bytes this install fetched over all its runs (header included)
 * @param bytesReused  bytes this install copied from a slot instead of fetching them, over all its
 *                     runs (counted from the download journal: a chunk re-done after a kill counts once)
 * @param chunksReused chunks copied, over all runs
 */
public record Progress(String release, long bytesFetched, int chunksVerified, int chunksTotal, long payloadBytes, long bytesReused,
                       int chunksReused) {
    public Progress(String release, long bytesFetched, int chunksVerified, int chunksTotal, long payloadBytes) {
        this(release, bytesFetched, chunksVerified, chunksTotal, payloadBytes, 0, 0);
    }

    public static final String FILE = "progress.json";

    /** The progress last written in {@code stateDir}, or null when there is none (no download yet) or it cannot be read. */
    static Progress read(Path stateDir) {
        try {
            return StateStore.json().read(Files.readAllBytes(stateDir.resolve(FILE)), Progress.class);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Advisory (status in another process): renamed into place but not fsync'd, so a chunk costs
     * no extra flush. After a power cut the journal, not this file, says what is done.
     */
    void write(Path stateDir) throws IOException {
        Path tmp = stateDir.resolve("." + FILE + ".tmp");
        Files.write(tmp, StateStore.json().write(this));
        Files.move(tmp, stateDir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
