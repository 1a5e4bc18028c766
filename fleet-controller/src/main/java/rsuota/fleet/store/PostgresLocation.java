package rsuota.fleet.store;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Where a PostgreSQL store lives: {@code postgresql://USER@HOST[:PORT]/DATABASE[?PARAM=VALUE&...]}
 * (query parameters go to the JDBC driver, e.g. {@code sslmode=verify-full}). The password never
 * comes from the URL: it is read from a file or from {@code PGPASSWORD} by {@link #password}.
 */
public record PostgresLocation(String user, String host, int port, String database, String query) {
    public static final String SCHEME = "postgresql";
    public static final int DEFAULT_PORT = 5432;
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_$.-]{0,62}");

    /** True when {@code text} is meant as a PostgreSQL URL (so anything else is a SQLite location). */
    public static boolean looksLike(String text) {
        return text != null && (text.startsWith(SCHEME + "://") || text.startsWith("postgres://"));
    }

    /**
     * Parses a {@code --db} URL.
     *
     * @throws IllegalArgumentException naming what is wrong and the expected form
     */
    public static PostgresLocation parse(String text) {
        String form = "expected postgresql://USER@HOST:PORT/DATABASE";
        if (!looksLike(text)) throw new IllegalArgumentException("--db '" + text + "' is not a PostgreSQL URL: " + form);
        URI u;
        try {
            u = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("--db URL is malformed (" + e.getReason() + "): " + form);
        }
        String userInfo = u.getRawUserInfo();
        if (userInfo == null || userInfo.isEmpty()) throw new IllegalArgumentException("--db URL names no user: " + form);
        if (userInfo.contains(":")) {
            throw new IllegalArgumentException("--db URL carries a password: a command line shows in ps and shell history; "
                    + "put the password in a file named by --db-password-file, or in PGPASSWORD");
        }
        if (u.getHost() == null) throw new IllegalArgumentException("--db URL names no host: " + form);
        String path = u.getPath() == null ? "" : u.getPath();
        String db = path.startsWith("/") ? path.substring(1) : path;
        if (!NAME.matcher(db).matches()) throw new IllegalArgumentException("--db URL names no valid database after the host ('" + db + "'): " + form);
        if (!NAME.matcher(userInfo).matches()) throw new IllegalArgumentException("--db URL user '" + userInfo + "' is not a valid role name");
        String q = u.getRawQuery();
        if (q != null && q.toLowerCase(java.util.Locale.ROOT).matches("(.*&)?password=.*")) {
            throw new IllegalArgumentException("--db URL carries a password parameter: use --db-password-file or PGPASSWORD instead");
        }
        return new PostgresLocation(userInfo, u.getHost(), u.getPort() < 0 ? DEFAULT_PORT : u.getPort(), db, q);
    }

    /** The JDBC URL (no user, no password: those go to the pool separately). */
    public String jdbcUrl() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database + (query == null ? "" : "?" + query);
    }

    /** How a log line or an error names this store (no password: there is none in it). */
    @Override
    public String toString() {
        return SCHEME + "://" + user + "@" + host + ":" + port + "/" + database;
    }

    /**
     * The password: the first line of {@code file} when given, else {@code PGPASSWORD} from {@code env},
     * else null (the server trusts the client, or uses a certificate).
     *
     * @throws IllegalArgumentException when the file cannot be read or is empty
     */
    public static String password(Path file, Map<String, String> env) {
        if (file != null) {
            String text;
            try {
                text = Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read --db-password-file " + file + ": " + e.getMessage());
            }
            String first = text.lines().findFirst().orElse("");
            if (first.isEmpty()) throw new IllegalArgumentException("--db-password-file " + file + " is empty: its first line is the password");
            return first;
        }
        String v = env.get("PGPASSWORD");
        return v == null || v.isEmpty() ? null : v;
    }
}
