package rsuota.agent.update;

/**
 * Test seam for power-cut simulation: the engine calls {@link #at} right after each persisted
 * transition and each durable chunk, and {@link #bytes} as payload bytes arrive. A test hook
 * throws {@link SimulatedCrash} to stop the engine dead; a fresh engine over the same directory
 * must then resume correctly. Production uses {@link #NONE}.
 */
public interface CrashHook {
    default void at(String point) {}

    default void bytes(long fetchedSoFar) {}

    CrashHook NONE = new CrashHook() {};

    /** Thrown by test hooks; an Error so that no catch block of the engine swallows it. */
    final class SimulatedCrash extends Error {
        public SimulatedCrash(String where) {
            super("simulated power cut at " + where);
        }
    }
}
