package org.chefbackend.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.chefbackend.ctl.SystemdUnit.Facts;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Who starts the agent: chef-backend.service only for the package's own node, on a host systemd runs. */
class SystemdUnitTest {
    @ParameterizedTest(name = "systemd={0} unit={1} root={2} dist={3} -> {4}")
    @CsvSource({
            "true,  true,  /,                  /opt/chef-backend,        true",
            // containers and CI: no systemd as PID 1, the CLI starts the agent (the unit's ExecStart line)
            "false, true,  /,                  /opt/chef-backend,        false",
            // systemd runs but the package is not installed (a checkout's build on a developer's host)
            "true,  false, /,                  /opt/chef-backend,        false",
            // the demo and the tests: node roots of their own, which the unit does not run
            "true,  true,  /tmp/demo/node1,    /opt/chef-backend,        false",
            // a checkout's build pointed at root /: the unit would run the package's version, not this one
            "true,  true,  /,                  /src/product/target/dist, false",
    })
    void decides(boolean systemd, boolean unit, String root, String dist, boolean expected) {
        assertEquals(expected, SystemdUnit.manages(new Facts(systemd, unit, Path.of(root), Path.of(dist))));
    }
}
