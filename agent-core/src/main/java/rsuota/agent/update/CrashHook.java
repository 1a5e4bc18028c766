package rsuota.agent.update;

import rsuota.agent.download.DownloadHook;

/**
 * Test seam for power-cut simulation: the engine calls {@link #at} right after each persisted
 * transition and each durable chunk, and {@link #bytes} as payload bytes arrive (the chunk
 * pipeline in {@code rsuota.agent.download} sees it as its {@link DownloadHook}). A test hook
 * throws {@link SimulatedCrash} to stop the engine dead; a fresh engine over the same directory
 * must then resume correctly. Production uses {@link #NONE}.
 */
public interface CrashHook extends DownloadHook {
    CrashHook NONE = new CrashHook() {};

    /** Thrown by test hooks; an Error so that no catch block of the engine swallows it. */
    final class SimulatedCrash extends Error {
        public SimulatedCrash(String where) {
            super("simulated power cut at " + where);
        }
    }
}
