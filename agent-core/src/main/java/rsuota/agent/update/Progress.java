package rsuota.agent.update;

/**
 * Download progress, written beside the state file after each durable chunk so that
 * {@code rsu-agent status} in another process can show it. Not a transition: losing the last
 * update to a power cut only makes the numbers slightly old.
 */
public record Progress(String release, long bytesFetched, int chunksVerified, int chunksTotal, long payloadBytes) {
    public static final String FILE = "progress.json";
}
