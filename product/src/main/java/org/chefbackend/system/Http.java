package org.chefbackend.system;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;

/**
 * Plain HTTP/1.1 for the agents, etcd's gateway and the search engine, all on loopback or the cluster network. Built
 * on HttpURLConnection, not java.net.http: every java.net.http client sets up TLS and a selector thread with its own
 * worker pool, several MiB of a small agent's memory for connections that never use TLS. A request is never re-sent
 * by the transport (bodies are streamed with a fixed length; connections are not kept alive), so a POST acts once.
 */
public final class Http {
    static {
        // Asking for "Connection: close" is not enough: HttpURLConnection keeps a connection unless the reply says
        // close, and the JDK's HttpServer (the agent's until it moved to Jetty) closes without saying so. A request sent on such a connection
        // while the server closes it is reset: a GET is silently sent again, a POST fails (CI: "stop leaderl" reset
        // right after the CLI's status GET). The JDK reads this once, when its HTTP client class loads; this class
        // comes first in every process of ours, and the JVMs that run the tests get the flag on their command line.
        System.setProperty("http.keepAlive", "false");
    }

    private Http() {
    }

    /** A status code and the body (the error body for 4xx/5xx; empty when there is none). */
    public record Response(int status, byte[] body) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public boolean ok() {
            return status / 100 == 2;
        }
    }

    /** {@code http://host:port} with an IPv6 literal bracketed. */
    public static String base(String host, int port) {
        return base("http", host, port);
    }

    /** {@code scheme://host:port}, an IPv6 literal bracketed. */
    public static String base(String scheme, String host, int port) {
        return scheme + "://" + (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
    }

    public static Response get(String url, Duration connect, Duration read) throws IOException {
        return send("GET", url, Map.of(), null, connect, read);
    }

    /** A GET of an {@code https://} URL trusting what {@code tls} trusts (null: the JDK's default trust). */
    public static Response get(String url, Duration connect, Duration read, SSLContext tls) throws IOException {
        return send("GET", url, Map.of(), null, connect, read, tls);
    }

    /**
     * One request on a fresh connection.
     *
     * @param body null for none
     * @param connect how long to wait for the connection
     * @param read how long to wait for the answer once connected
     */
    public static Response send(String method, String url, Map<String, String> headers, byte[] body, Duration connect,
            Duration read) throws IOException {
        return send(method, url, headers, body, connect, read, null);
    }

    /** As {@link #send(String, String, Map, byte[], Duration, Duration)}; {@code tls} for an https URL, or null. */
    public static Response send(String method, String url, Map<String, String> headers, byte[] body, Duration connect,
            Duration read, SSLContext tls) throws IOException {
        HttpURLConnection c;
        try {
            c = (HttpURLConnection) URI.create(url).toURL().openConnection();
        } catch (IllegalArgumentException e) {
            throw new IOException("bad URL " + url + ": " + e.getMessage(), e);
        }
        if (c instanceof HttpsURLConnection https && tls != null) {
            https.setSSLSocketFactory(tls.getSocketFactory());
        }
        try {
            c.setRequestMethod(method);
            c.setConnectTimeout(millis(connect));
            c.setReadTimeout(millis(read));
            c.setUseCaches(false);
            c.setRequestProperty("Connection", "close");
            headers.forEach(c::setRequestProperty);
            if (body != null) {
                c.setDoOutput(true);
                c.setFixedLengthStreamingMode(body.length);
                try (OutputStream out = c.getOutputStream()) {
                    out.write(body);
                }
            }
            int status = c.getResponseCode();
            try (InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream()) {
                return new Response(status, in == null ? new byte[0] : in.readAllBytes());
            }
        } finally {
            c.disconnect();
        }
    }

    private static int millis(Duration d) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, d.toMillis()));
    }
}
