package rsuota.fleet.rollout;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import rsuota.fixtures.docs.DocBlock;

/** The rollout and phase graphs drawn in docs/architecture.md are {@link RolloutTransitions}' tables (scripts/diagrams redraws them). */
class RolloutGraphDiagramTest {
    static final Path DOC = Path.of("..", "docs", "architecture.md");

    @Test
    void theArchitecturePageDrawsTheRolloutTable() {
        var edges = RolloutTransitions.rolloutRows().stream().map(r -> new DocBlock.Edge(r.from().name(), r.on().name(), r.to().name())).toList();
        DocBlock.check(DOC, "rollout-graph", DocBlock.mermaid(RolloutState.DRAFT.name(), edges));
    }

    @Test
    void theArchitecturePageDrawsThePhaseTable() {
        var edges = RolloutTransitions.phaseRows().stream().map(r -> new DocBlock.Edge(r.from().name(), r.on().name(), r.to().name())).toList();
        DocBlock.check(DOC, "phase-graph", DocBlock.mermaid(PhaseState.PENDING.name(), edges));
    }
}
