#!/usr/bin/python3
"""The demo: a private Apache with the module, SimpleSAMLphp as the IdP and the echo backend,
all on 127.0.0.1. `sh tests/demo` runs it; the Chromium test starts the same stack.

    /usr/bin/python3 tests/demo_stack.py [--port 8080] [--idp-port 8081] [--backend-port 9000]
"""
import argparse
import os
import signal
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "idp"))
sys.path.insert(0, os.path.join(HERE, "integration"))

from echo_backend import EchoBackend  # noqa: E402
from httpd import Httpd  # noqa: E402
from ssp_server import SSPServer, make_sp_metadata  # noqa: E402

MODULE_SO = os.path.join(HERE, "..", "mod_cloudsmith_saml.so")

SITE = """
<Location /acme/>
    AuthType CloudsmithSAML
    CloudsmithSAMLOrg acme
    CloudsmithSAMLIdPMetadataFile {idp_metadata}
    # SimpleSAMLphp sends a multi-valued "groups" attribute and one attribute per group
    CloudsmithSAMLGroupSync groups Dev developers Member
    CloudsmithSAMLGroupSync Ops Ops operations Manager
    CloudsmithSAMLGroupSync groups "Design, UX" "Design, UX"
    Require valid-user
    ProxyPass http://127.0.0.1:{backend_port}/acme/
</Location>
<Location /acme/ops/>
    Require cloudsmith-team operations Manager
</Location>
"""


class Demo:
    """The running demo: .httpd, .idp, .backend, .url; stop() ends all three."""

    def __init__(self, workdir, port, idp_port, backend_port, module_so=MODULE_SO):
        self.workdir = workdir
        base = "http://127.0.0.1:%d" % port
        acs = base + "/acme/saml/acs/"
        sp_metadata = os.path.join(workdir, "acme-sp.xml")
        os.makedirs(workdir, exist_ok=True)
        with open(sp_metadata, "w") as f:
            f.write(make_sp_metadata(acs, acs))
        self.backend = EchoBackend(backend_port).start()
        self.idp = SSPServer(idp_port, os.path.join(workdir, "idp"), [sp_metadata])
        self.httpd = None
        try:
            self.idp.start()
            site = SITE.format(idp_metadata=self.idp.metadata_path, backend_port=backend_port)
            self.httpd = Httpd(os.path.join(workdir, "httpd"), os.path.abspath(module_so), site,
                               port=port).start()
        except BaseException:
            self.stop()
            raise
        self.url = base + "/acme/"

    def stop(self):
        if self.httpd:
            self.httpd.stop()
        self.idp.stop()
        self.backend.stop()


def main():
    parser = argparse.ArgumentParser(description="mod_cloudsmith_saml demo on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--idp-port", type=int, default=8081)
    parser.add_argument("--backend-port", type=int, default=9000)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="cloudsmith-saml-demo-")
    # SIGTERM unwinds like Ctrl-C, also while the stack is still starting
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    demo = Demo(workdir, args.port, args.idp_port, args.backend_port)
    print(f"""
mod_cloudsmith_saml demo is running (files and logs in {workdir})

  Open       {demo.url}
  Sign in    alice@example.com / alicepass   (teams developers, operations as Manager)
             bob@example.com / bobpass       (team developers)
             carol@example.com / carolpass   (team "Design, UX"; quotes and UTF-8 in names)
  Managers   {demo.url}ops/   (bob gets 403)
  Sign out   {demo.url}saml/logout/
  Metadata   {demo.url}saml/metadata/
  IdP        {demo.idp.base_url}/
  Apache log {demo.httpd.error_log}

Ctrl-C stops it.""", flush=True)
    try:
        signal.pause()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        demo.stop()


if __name__ == "__main__":
    main()
