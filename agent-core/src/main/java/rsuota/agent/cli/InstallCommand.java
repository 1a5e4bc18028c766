package rsuota.agent.cli;

import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import rsuota.agent.AgentException;
import rsuota.agent.update.EngineState;
import rsuota.agent.update.Progress;
import rsuota.agent.update.UpdateState;

/** Installs a bundle to the inactive slot, resuming an interrupted install of the same source. */
@Command(name = "install", mixinStandardHelpOptions = true,
        description = "Download, verify and write a bundle (URL or file) to the inactive slot. A second install over an interrupted one resumes it.")
final class InstallCommand extends DeviceCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SOURCE", description = "http(s) URL or path of a .rsub bundle") String source;
    @Option(names = "--download-only", description = "stop once verified on the inactive slot (no activation)") boolean downloadOnly;

    @Override
    public Integer call() throws Failure, InterruptedException, IOException, AgentException {
        return withEngine((engine, out) -> {
            EngineState s = engine.state();
            boolean resume = s.state().inFlight() && s.order() != null && s.order().source().equals(source);
            if (resume) {
                out.println("resuming the interrupted install of " + source + " (" + s.state().reported() + ")");
            } else {
                engine.order(new EngineState.Order(source, null, null, 0, downloadOnly, null));
            }
            ProgressPrinter printer = new ProgressPrinter(engine, out, System.console() != null);
            printer.start();
            EngineState end;
            long started = System.nanoTime();
            try {
                end = engine.run();
            } finally {
                printer.stop();
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            if (end.state() == UpdateState.VERIFIED) {
                out.printf("verified: release %s on slot %s%s%n", end.target().release(), end.target().slot(),
                        end.order().downloadOnly() ? " (download only; activation is a separate order)" : "");
                Progress p = engine.progress();
                if (p != null && p.payloadBytes() > 0) {
                    // What a technician compares with the link's speed; scripts/bench download reads it too.
                    out.printf(java.util.Locale.ROOT, "payload %d bytes verified on the slot in %.2f s (%.0f MiB/s; %d bytes fetched)%n",
                            p.payloadBytes(), seconds, p.payloadBytes() / 1048576.0 / seconds, p.bytesFetched());
                }
                return 0;
            }
            return afterActivationStep(engine, end, out);
        });
    }
}
