package rsuota.fleet.rollout;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import rsuota.fixtures.docs.StateDiagram;

/** The rollout and phase graphs drawn in docs/architecture.md are {@link RolloutTransitions}' tables (scripts/diagrams redraws them). */
class RolloutGraphDiagramTest {
    static final Path DOC = Path.of("..", "docs", "architecture.md");

    @Test
    void theArchitecturePageDrawsTheRolloutTable() {
        var edges = RolloutTransitions.rolloutRows().stream().map(r -> new StateDiagram.Edge(r.from().name(), r.on().name(), r.to().name())).toList();
        StateDiagram.check(DOC, "rollout-graph", StateDiagram.mermaid(RolloutState.DRAFT.name(), edges));
    }

    @Test
    void theArchitecturePageDrawsThePhaseTable() {
        var edges = RolloutTransitions.phaseRows().stream().map(r -> new StateDiagram.Edge(r.from().name(), r.on().name(), r.to().name())).toList();
        StateDiagram.check(DOC, "phase-graph", StateDiagram.mermaid(PhaseState.PENDING.name(), edges));
    }
}
