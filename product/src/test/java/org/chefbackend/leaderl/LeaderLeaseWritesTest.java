package org.chefbackend.leaderl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.cluster.ClusterAgent;
import org.chefbackend.cluster.Records;
import org.chefbackend.config.ChefBackendRbParser;
import org.chefbackend.config.MachineFacts;
import org.chefbackend.config.NodePaths;
import org.chefbackend.config.Settings;
import org.chefbackend.postgres.LocalSession;
import org.junit.jupiter.api.Test;

/**
 * The leader writes {@code leader}, {@code history} and {@code sync} only as records every reader accepts: an invalid
 * one is refused before etcd is touched (here, before the agent is even connected to it) and before any lease exists.
 */
class LeaderLeaseWritesTest {
    static final String GUID = "0123456789abcdef0123456789abcdef";

    static NodeContext node(String name) {
        Settings s = Settings.from(ChefBackendRbParser.parse("chef-backend.rb", "publish_address '10.0.0.1'\n"),
                new MachineFacts(8L << 30, "be1"));
        return new NodeContext(s, new NodePaths(Path.of("/")), name, GUID, null);
    }

    /** A lease whose agent has no etcd connection: whatever reaches etcd fails with "not (yet) a connected member". */
    static LeaderLease unconnected(NodeContext ctx) {
        ClusterAgent cluster = new ClusterAgent(() -> ctx, new LocalSession(() -> ctx, 100));
        return new LeaderLease(cluster, () -> { }, System::nanoTime);
    }

    @Test
    void aLeaderRecordReadersWouldRefuseIsNotWrittenAndNoLeaseIsTaken() {
        NodeContext ctx = node("bad name");
        Records.Invalid e = assertThrows(Records.Invalid.class, () -> unconnected(ctx).acquire(ctx));
        assertEquals("name \"bad name\" is not a node name (letters, digits, '.', '_', '-'; at most 253)",
                e.getMessage());
    }

    @Test
    void aValidLeaderRecordGoesOnToEtcd() {
        NodeContext ctx = node("be1");
        ClusterAgent.Refusal e = assertThrows(ClusterAgent.Refusal.class, () -> unconnected(ctx).acquire(ctx));
        assertTrue(e.getMessage().contains("not (yet) a connected member"), e.getMessage());
    }

    @Test
    void historyAndSyncReadersWouldRefuseAreNotWritten() {
        LeaderLease lease = unconnected(node("be1"));
        Records.Invalid bad = assertThrows(Records.Invalid.class,
                () -> lease.putAsLeader(HaLoop.SYNC, new Records.Sync("be 2", "be1", 1)));
        assertTrue(bad.getMessage().startsWith("standby \"be 2\" is not a node name"), bad.getMessage());
        bad = assertThrows(Records.Invalid.class,
                () -> lease.putAsLeader(HaLoop.HISTORY, new Records.History("be1", -1L, 3L, 1)));
        assertEquals("lsn -1 is below 0", bad.getMessage());
        // valid ones get as far as the lease check
        IllegalStateException notHolding = assertThrows(IllegalStateException.class,
                () -> lease.putAsLeader(HaLoop.SYNC, new Records.Sync(null, "be1", 1)));
        assertEquals("not holding the leader key", notHolding.getMessage());
    }
}
