package org.chefbackend.leaderl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.chefbackend.cluster.Records;
import org.chefbackend.system.Http;

/** The other members' positions and eligibility, asked of their agents ({@code GET /position}) every iteration. */
final class PeerPositions {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PeerPositions() {
    }

    /** Every member but {@code self}, asked in parallel; a member that does not answer is left out. */
    static Map<String, Facts.Peer> ask(String self, Map<String, Records.Member> members) {
        Map<String, CompletableFuture<Optional<Facts.Peer>>> asks = new LinkedHashMap<>();
        for (Records.Member m : members.values()) {
            if (!m.name().equals(self)) {
                asks.put(m.name(), CompletableFuture.supplyAsync(() -> ask(m)));
            }
        }
        Map<String, Facts.Peer> peers = new LinkedHashMap<>();
        asks.forEach((name, ask) -> ask.join().ifPresent(p -> peers.put(name, p)));
        return peers;
    }

    private static Optional<Facts.Peer> ask(Records.Member m) {
        try {
            Http.Response r = Http.get(Http.base(m.address(), m.httpPort()) + "/position", Duration.ofMillis(500),
                    Duration.ofMillis(800));
            if (r.status() != 200) {
                return Optional.empty();
            }
            JsonNode j = JSON.readTree(r.body());
            boolean eligible = j.path("eligible").asBoolean();
            // an agent that does not say (an older version) counts as healthy when eligible, as it used to
            return Optional.of(new Facts.Peer(eligible, j.path("lsn").asLong(Facts.NO_POSITION),
                    j.path("healthy_now").asBoolean(eligible)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
