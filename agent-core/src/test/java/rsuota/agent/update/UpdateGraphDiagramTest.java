package rsuota.agent.update;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import rsuota.fixtures.docs.DocBlock;

/** The update graph drawn in docs/architecture.md is the one {@link UpdateTransitions} holds (scripts/diagrams redraws it). */
class UpdateGraphDiagramTest {
    @Test
    void theArchitecturePageDrawsTheTransitionTable() {
        var edges = UpdateTransitions.rows().stream().map(r -> new DocBlock.Edge(r.from().name(), r.on().name(), r.to().name())).toList();
        DocBlock.check(Path.of("..", "docs", "architecture.md"), "update-graph", DocBlock.mermaid(UpdateState.IDLE.name(), edges));
    }
}
