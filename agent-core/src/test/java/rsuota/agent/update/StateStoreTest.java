package rsuota.agent.update;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The table is the whole graph: the store persists a state change only along a row of {@link UpdateTransitions}. */
class StateStoreTest {
    static final Instant T = Instant.parse("2026-12-04T06:00:00Z");

    @Test
    void aTransitionAlongTheTableIsPersisted(@TempDir Path dir) throws Exception {
        StateStore store = new StateStore(dir);
        EngineState idle = store.load(T);
        EngineState pending = idle.withState(UpdateState.PENDING, T);
        store.transition(idle, UpdateEvent.ORDER, pending);
        assertThat(store.load(T).state()).isEqualTo(UpdateState.PENDING);
    }

    @Test
    void aStateChangeOffTheTableIsRefusedAndNothingWritten(@TempDir Path dir) throws Exception {
        StateStore store = new StateStore(dir);
        EngineState idle = store.load(T);
        assertThatThrownBy(() -> store.transition(idle, UpdateEvent.SUCCESS, idle.withState(UpdateState.ACTIVATED, T)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("no transition from IDLE on SUCCESS");
        assertThatThrownBy(() -> store.transition(idle, UpdateEvent.ORDER, idle.withState(UpdateState.DOWNLOADING, T)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("leads to PENDING, not DOWNLOADING");
        assertThatThrownBy(() -> store.amend(idle, idle.withState(UpdateState.VERIFIED, T)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("outside UpdateTransitions");
        assertThat(Files.exists(dir.resolve(StateStore.FILE))).as("nothing written").isFalse();
    }

    @Test
    void anAmendmentWithinTheStateIsPersisted(@TempDir Path dir) throws Exception {
        StateStore store = new StateStore(dir);
        EngineState idle = store.load(T);
        store.amend(idle, idle.withFloor(7));
        assertThat(store.load(T).state()).isEqualTo(UpdateState.IDLE);
        assertThat(store.load(T).securityFloor()).isEqualTo(7);
    }
}
