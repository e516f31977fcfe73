"""The decision's canonical bytes: what an auditor recounts and compares byte for byte.

UTF-8 text, tab-separated, one key per line, in this order:

    # decision
    proposal, revision, content_hash, base_commit, constitutional (0/1), voting_hours, quorum, majority,
    strict (0/1), electorate (its size), approved (0/1)
    path<TAB>PATH<TAB>MODULE            one line per changed path, by path
    # module NAME                       one section per module touched, by name
    yes, no, abstain, quorum_met, majority_met, approved
    voter<TAB>vote<TAB>how<TAB>scope<TAB>via
    one line per electorate voter, by address: vote is empty when it counts in no column; via lists the
    delegates followed, joined by ","; each delegate's own line continues the chain

Addresses and paths never hold tabs, commas or newlines (both are refused before they reach the log).
"""

from __future__ import annotations

from civitas_deployer.domain.decision import Decision

DECISION = "# decision"
MODULE = "# module "
VOTER_HEADER = "voter\tvote\thow\tscope\tvia"


def decision_text(decision: Decision) -> bytes:
    s, t = decision.subject, decision.thresholds
    lines = [
        DECISION,
        f"proposal\t{s.proposal}",
        f"revision\t{s.revision}",
        f"content_hash\t{s.content_hash}",
        f"base_commit\t{s.base_commit}",
        f"constitutional\t{int(decision.constitutional)}",
        f"voting_hours\t{t.voting_hours}",
        f"quorum\t{t.quorum}",
        f"majority\t{t.majority}",
        f"strict\t{int(t.strict)}",
        f"electorate\t{decision.electorate}",
        f"approved\t{int(decision.approved)}",
    ]
    lines.extend(f"path\t{path}\t{module}" for path, module in decision.path_modules)
    voters = sorted(decision.tallies[0].resolutions) if decision.tallies else []  # every module has the electorate
    for tally in decision.tallies:
        lines += [
            f"{MODULE}{tally.module}",
            f"yes\t{tally.yes}",
            f"no\t{tally.no}",
            f"abstain\t{tally.abstain}",
            f"quorum_met\t{int(tally.quorum_met)}",
            f"majority_met\t{int(tally.majority_met)}",
            f"approved\t{int(tally.approved)}",
            VOTER_HEADER,
        ]
        lines.extend(tally.resolutions.lines(voters))
    return ("\n".join(lines) + "\n").encode()
