package org.chefbackend.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * curl from a chosen source address, which the JDK's HttpClient cannot bind: a stranger's requests come from an
 * address of its own.
 *
 * @param source the address requests leave from ({@code --interface})
 */
public record Curl(String source) {
    /**
     * What came back.
     *
     * @param exit curl's exit code (0: an HTTP answer arrived in time)
     * @param status the HTTP status, 0 when there was none (the connection or TLS handshake failed)
     * @param body the answer's body
     * @param error what curl said on stderr
     */
    public record Answer(int exit, int status, String body, String error) {
        /** The body, or curl's own error when nothing was answered: what a refusal said. */
        public String said() {
            return status == 0 ? error.strip() : body.strip();
        }

        @Override
        public String toString() {
            return "exit " + exit + ", HTTP " + status + ": " + said();
        }
    }

    /** {@code method url} with a JSON body (null for none) and curl {@code options}; later options win. */
    public Answer send(String method, String url, String json, String... options) {
        List<String> command = new ArrayList<>(List.of("curl", "-sS", "--max-time", "10", "--interface", source,
                "-X", method, "-w", "\n%{http_code}"));
        if (json != null) {
            command.addAll(List.of("-H", "Content-Type: application/json", "--data-binary", json));
        }
        command.addAll(List.of(options));
        command.add(url);
        try {
            Process p = new ProcessBuilder(command).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("curl hung: " + command);
            }
            int cut = out.lastIndexOf('\n');
            int status = Integer.parseInt(out.substring(cut + 1).strip());
            return new Answer(p.exitValue(), status, cut < 0 ? "" : out.substring(0, cut), err);
        } catch (IOException e) {
            throw new IllegalStateException("curl cannot run: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
