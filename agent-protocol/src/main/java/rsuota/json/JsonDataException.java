package rsuota.json;

import java.io.IOException;

/** JSON that {@link RecordJson} refuses: the message names the field by its path ({@code images[0].chunkSize}) and what was wrong. */
public final class JsonDataException extends IOException {
    private final String path;

    public JsonDataException(String path, String problem) {
        super(path.isEmpty() ? problem : "'" + path + "' " + problem);
        this.path = path;
    }

    /** The field's path from the top ("" for the document itself). */
    public String path() {
        return path;
    }
}
