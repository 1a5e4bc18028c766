package rsuota.agent.download;

import java.util.List;
import rsuota.agent.AgentError;

/**
 * What a {@link SlotFiller#fill} did: where the bytes came from, and what it survived on the way.
 *
 * @param bytesFetched   body bytes the source delivered in this run (stored, i.e. compressed, bytes)
 * @param chunksFetched  chunks fetched in this run
 * @param bytesReused    bytes copied from the active slot (verified by hash) in this run
 * @param chunksReused   chunks copied from the active slot in this run
 * @param totalBytesFetched payload bytes fetched over every run of this download (as the journal recorded
 *                          them after each fetch: a kill -9 loses none of them)
 * @param totalBytesReused  bytes copied from a slot over every run of this download (from the journal,
 *                          so a chunk re-done after a kill counts once)
 * @param totalChunksReused chunks copied from a slot over every run of this download
 * @param activeIndexBuilt  whether this run read the whole active slot to index it (false: no reuse,
 *                          or the index persisted at commit time or by an earlier install was still bound to the slot)
 * @param notes          faults survived without failing the install, each with its code
 */
public record FillReport(long bytesFetched, int chunksFetched, long bytesReused, int chunksReused, long totalBytesFetched, long totalBytesReused,
                         int totalChunksReused, boolean activeIndexBuilt, List<Note> notes) {
    public FillReport {
        notes = List.copyOf(notes);
    }

    /** A fault that was handled (the install went on): its code and what happened. */
    public record Note(AgentError code, String message) {}

    public boolean noted(AgentError code) {
        return notes.stream().anyMatch(n -> n.code() == code);
    }
}
