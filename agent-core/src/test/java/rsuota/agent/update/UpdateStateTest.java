package rsuota.agent.update;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import rsuota.wire.DeploymentState;

class UpdateStateTest {
    @Test
    void theEngineReportsExactlyTheWireVocabulary() {
        assertThat(Arrays.stream(UpdateState.values()).map(UpdateState::deployment)).containsExactly(DeploymentState.values());
        assertThat(UpdateState.AWAITING_WINDOW.reported()).isEqualTo("awaiting_window");
    }
}
