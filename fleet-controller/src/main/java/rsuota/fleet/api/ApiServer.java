package rsuota.fleet.api;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import org.eclipse.jetty.http.MimeTypes;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;
import org.eclipse.jetty.server.handler.ResourceHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.resource.ResourceFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import rsuota.fleet.auth.Tokens;
import rsuota.fleet.domain.ErrorCode;
import rsuota.fleet.domain.FleetException;

/**
 * The controller's HTTP server (embedded Jetty 12): the REST API under /api/v1, /metrics, and the
 * bundles of the artifact directory under /artifacts/ with HTTP Range.
 *
 * <p>Artifacts go through Jetty's ResourceHandler, which answers single, suffix, open-ended and
 * multi ranges and 416 correctly (a device resumes a cut download with them). They need no token:
 * a bundle carries its own signature and every device verifies it before use.
 */
public final class ApiServer implements AutoCloseable {
    /** Worker threads: enough for operators, tools and bundle downloads on a 2-core host. */
    private static final int MAX_THREADS = 64;

    private final Server server;
    private final ServerConnector connector;

    public ApiServer(String host, int port, List<Route> routes, Tokens tokens, HttpCounters counters, Path artifacts,
                     rsuota.fleet.auth.FailedAuthLimiter limiter) {
        QueuedThreadPool pool = new QueuedThreadPool(MAX_THREADS, 4);
        pool.setName("fleet-http");
        server = new Server(pool);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(host);
        connector.setPort(port);
        server.addConnector(connector);

        ResourceHandler files = new ResourceHandler(new ArtifactNotFound());
        files.setBaseResource(ResourceFactory.of(server).newResource(artifacts.toAbsolutePath()));
        files.setDirAllowed(false);
        files.setAcceptRanges(true);
        files.setEtags(true);
        MimeTypes.Mutable types = new MimeTypes.Mutable();
        types.addMimeMapping("rsub", "application/octet-stream");
        files.setMimeTypes(types);

        ContextHandler artifactContext = new ContextHandler(files, "/artifacts");
        ContextHandler apiContext = new ContextHandler(new ApiHandler(routes, tokens, counters, limiter), "/");
        server.setHandler(new ContextHandlerCollection(artifactContext, apiContext));
        server.setStopTimeout(5_000);
    }

    public void start() throws FleetException {
        try {
            server.start();
        } catch (Exception e) {
            // Jetty's start() declares Exception; the usual one is a port in use.
            try {
                server.stop();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new FleetException(ErrorCode.INTERNAL, "cannot listen on " + connector.getHost() + ":" + connector.getPort()
                    + ": " + e.getMessage(), java.util.Map.of(), e);
        }
    }

    /** The bound port (useful when started on port 0). */
    public int port() {
        return connector.getLocalPort();
    }

    public URI uri() {
        String host = connector.getHost() == null || connector.getHost().equals("0.0.0.0") ? "127.0.0.1" : connector.getHost();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port());
    }

    public void join() throws InterruptedException {
        server.join();
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException("stopping the HTTP server failed: " + e.getMessage(), e);
        }
    }

    /** What ResourceHandler falls back to for a missing file: the API's JSON 404. */
    private static final class ArtifactNotFound extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            ApiHandler.write(response, ApiHandler.error(new FleetException(ErrorCode.NOT_FOUND,
                    "no artifact " + Request.getPathInContext(request))), callback);
            return true;
        }
    }
}
