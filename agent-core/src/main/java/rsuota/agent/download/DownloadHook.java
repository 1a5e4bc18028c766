package rsuota.agent.download;

/**
 * Test seam inside the chunk pipeline: {@link #at} is called after each chunk is durable on the
 * slot ({@code chunk-written:image:chunk}) and after its journal record is durable
 * ({@code chunk-journaled:image:chunk}); {@link #bytes} as payload bytes arrive. A power-cut test
 * throws an {@link Error} from it, which the pipeline never catches. Production does nothing here.
 */
public interface DownloadHook {
    default void at(String point) {}

    default void bytes(long fetchedSoFar) {}
}
