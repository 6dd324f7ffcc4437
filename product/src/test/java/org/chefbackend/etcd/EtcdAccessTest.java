package org.chefbackend.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.chefbackend.config.ClusterCa;
import org.chefbackend.config.Secrets;
import org.chefbackend.dcs.EtcdCredentials;
import org.chefbackend.tls.Authority;
import org.chefbackend.tls.Subject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The scheme, trust and users a node reaches etcd with follow from its secrets alone. */
class EtcdAccessTest {
    static final Secrets OPEN = new Secrets("pw", "repl", "token123", "chef-backend-x");
    static ClusterCa ca;

    @BeforeAll
    static void authority() {
        ca = Authority.generate(new Subject("US", "YouCorp", "Operations"), 2048, 2);
    }

    @Test
    void aClusterMadeBeforeTheCaStaysOpenPlainHttpAndNoUsers() {
        EtcdAccess a = EtcdAccess.of(OPEN);
        assertFalse(a.closed());
        assertEquals("http", a.scheme());
        assertEquals("http://10.0.0.1:2379", a.url("10.0.0.1", 2379));
        assertNull(a.tls());
        assertNull(a.clusterUser());
        assertNull(a.root());
    }

    @Test
    void aClusterWithACaIsReachedOverHttpsTrustingItAsTwoUsersWithDerivedPasswords() {
        Secrets closed = OPEN.withCa(ca);
        EtcdAccess a = EtcdAccess.of(closed);
        assertTrue(a.closed());
        assertEquals("https", a.scheme());
        assertEquals("https://10.0.0.1:2380", a.url("10.0.0.1", 2380));
        assertEquals("https://[fd00::5]:2379", a.url("fd00::5", 2379));
        assertNotNull(a.tls());
        assertEquals(new EtcdCredentials("chef-backend", closed.etcdPassword("chef-backend")), a.clusterUser());
        assertEquals(new EtcdCredentials("root", closed.etcdPassword("root")), a.root());
        assertSame(a, EtcdAccess.of(closed), "the TLS context is made once, not at every health check");
        Secrets other = new Secrets("pw2", "repl", "token123", "chef-backend-x", ca);
        assertEquals(other.etcdPassword("root"), EtcdAccess.of(other).root().password(), "other secrets, other users");
    }
}
