package rsuota.bundle;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 helpers (the JDK's implementation uses the CPU's SHA extensions where present). */
public final class Sha256 {
    private Sha256() {}

    public static MessageDigest newDigest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform must provide SHA-256", e);
        }
    }

    public static String hex(byte[] digest) {
        return HexFormat.of().formatHex(digest);
    }

    public static String of(byte[] data) {
        return hex(newDigest().digest(data));
    }

    public static String of(byte[] data, int off, int len) {
        MessageDigest d = newDigest();
        d.update(data, off, len);
        return hex(d.digest());
    }
}
