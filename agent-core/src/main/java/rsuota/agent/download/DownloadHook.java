package rsuota.agent.download;

/**
 * Test seam inside the chunk pipeline: {@link #at} is called after each chunk is durable on the
 * slot ({@code chunk-written:image:chunk}), after its journal record is durable
 * ({@code chunk-journaled:image:chunk}), and after a chunk copied from the active slot was written
 * and named in the journal ({@code chunk-reused:image:chunk}, not yet fsync'd); {@link #bytes} as payload bytes arrive. A power-cut test
 * throws an {@link Error} from it, which the pipeline never catches. Production does nothing here.
 */
public interface DownloadHook {
    default void at(String point) {}

    default void bytes(long fetchedSoFar) {}
}
