package rsuota.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import rsuota.agent.download.FetchException;
import rsuota.bundle.Reason;

/** The code table: wire names are unique and stable, every verifier refusal has a code. */
class AgentErrorTest {

    @Test
    void wireNamesAreUnique() {
        Set<String> wires = Arrays.stream(AgentError.values()).map(AgentError::wire).collect(Collectors.toSet());
        assertThat(wires).hasSize(AgentError.values().length);
    }

    @ParameterizedTest
    @EnumSource(Reason.class)
    void everyBundleRefusalKeepsItsWireName(Reason r) {
        assertThat(AgentError.of(r).wire()).isEqualTo(r.name());
    }

    @Test
    void lowerCaseWireNamesStayAsReported() {
        // Stored in lastError.code by older agents and read by the controller and the lab.
        assertThat(AgentError.BOOT_FAILED.wire()).isEqualTo("boot_failed");
        assertThat(AgentError.HEALTH_FAILED.wire()).isEqualTo("health_failed");
        assertThat(AgentError.PREVIOUS_UNHEALTHY.wire()).isEqualTo("previous_unhealthy");
        assertThat(AgentError.PREVIOUS_UNBOOTABLE.wire()).isEqualTo("previous_unbootable");
    }

    @Test
    void messageNamesTheCodeAndDetailDoesNot() {
        AgentException e = new AgentException(AgentError.BAD_WINDOW, "cannot parse 'Mon'");
        assertThat(e.getMessage()).isEqualTo("BAD_WINDOW: cannot parse 'Mon'");
        assertThat(e.detail()).isEqualTo("cannot parse 'Mon'");
        assertThat(e.withContext("activate: ").detail()).isEqualTo("activate: cannot parse 'Mon'");
    }

    @Test
    void httpStatusWireNameCarriesTheStatus() {
        FetchException e = FetchException.httpStatus(418, "teapot");
        assertThat(e.wireCode()).isEqualTo("HTTP_418");
        assertThat(e.withContext("header: ").wireCode()).isEqualTo("HTTP_418");
        assertThat(e.isTransient()).isFalse();
    }

    @Test
    void findsTheCodeInACauseChainOrFallsBack() {
        AgentException inner = new AgentException(AgentError.NOT_AUTHORIZED, "banned");
        assertThat(AgentException.in(new RuntimeException(inner), AgentError.CLIENT_ERROR)).isSameAs(inner);
        assertThat(AgentException.in(new IllegalStateException("x"), AgentError.CLIENT_ERROR).code()).isEqualTo(AgentError.CLIENT_ERROR);
    }
}
