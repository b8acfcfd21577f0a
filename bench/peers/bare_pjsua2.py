"""The floor for our engine: a bare pjsua2 auto-answerer with no Switchboard code at all.

The same wheel, the same null audio device and one poll loop on one thread, as PEERS.md
describes; it answers 180 and then 200 inside onIncomingCall. Run by bench/sip_latency.py
so the gap between it and our engine is measured in the same run.

    python bench/peers/bare_pjsua2.py PORT
"""

from __future__ import annotations

import gc
import signal
import sys

import pjsua2 as pj

calls: list[BareCall] = []
running = True


class BareCall(pj.Call):
    ended = False

    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        if self.getInfo().state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.ended = True


class AutoAnswer(pj.Account):
    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        calls[:] = [c for c in calls if not c.ended]  # keep live calls referenced
        call = BareCall(self, prm.callId)
        calls.append(call)
        op = pj.CallOpParam()
        op.statusCode = 180
        call.answer(op)
        op = pj.CallOpParam()
        op.statusCode = 200
        call.answer(op)


def main() -> int:
    port = int(sys.argv[1])
    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    cfg.logConfig.level = 0
    cfg.logConfig.consoleLevel = 0
    ep.libInit(cfg)
    ep.audDevManager().setNullDev()
    tcfg = pj.TransportConfig()
    tcfg.port = port
    tcfg.boundAddress = "127.0.0.1"
    ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
    ep.libStart()
    acfg = pj.AccountConfig()
    acfg.idUri = f"sip:bare@127.0.0.1:{port}"
    acc = AutoAnswer()
    acc.create(acfg)

    def stop(*_: object) -> None:
        global running
        running = False

    signal.signal(signal.SIGTERM, stop)
    while running:
        ep.libHandleEvents(10)
    ep.hangupAllCalls()
    calls.clear()
    del acc
    gc.collect()
    ep.libDestroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
