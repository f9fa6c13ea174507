/* The `medchain` command: command table, usage and dispatch.
 *
 * A command is one or two words ("init", "member enroll"); the handler gets
 * the arguments after them. See cli.h for the output and exit-code rules. */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/version.h"
#include "cli/cli.h"
#include "crypto/hash.h"

#define CLIENT_OPTS                                                                          \
    "  --node URL             node API (default $MEDCHAIN_NODE or " MC_CLI_DEFAULT_NODE ")\n"
#define SIGNER_OPTS                                                                          \
    CLIENT_OPTS                                                                              \
    "  --passphrase-file F    passphrase of --key (default $MEDCHAIN_PASSPHRASE)\n"          \
    "  --nonce N              use nonce N instead of the account's next one\n"               \
    "  --no-wait              print the id and return once the node accepted it\n"           \
    "  --timeout S            seconds to wait for the commit (default 10)\n"

#define READ_OPTS                                                                            \
    "\n" CLIENT_OPTS                                                                          \
    "  --cacert F             trust F's CA for an https:// node (default $MEDCHAIN_CACERT)\n" \
    "  --passphrase-file F    passphrase of --key (default $MEDCHAIN_PASSPHRASE)\n"

struct command {
    const char *words;
    int (*run)(int argc, char **argv);
    const char *summary;
    const char *usage;
};

static const struct command commands[] = {
    {"init", mc_cli_cmd_init, "create a single-validator node home folder",
     "medchain init --home DIR [--chain-id ID] [--org NAME] [--kind KIND] [--gln GLN]\n"
     "              [--api HOST:PORT] [--passphrase-file F]\n"
     "  Creates DIR with genesis.json, node_key.json, admin_key.json and config.json.\n"
     "  --kind is hospital, clinic, laboratory, pharmacy, manufacturer, distributor,\n"
     "  research or regulator (default hospital); --passphrase-file protects the admin key.\n"},
    {"node", mc_cli_cmd_node, "run a node",
     "medchain node --home DIR [--api HOST:PORT] [--tls-cert PEM --tls-key PEM]\n"
     "  Serves the HTTP API (default from DIR/config.json) and commits blocks until\n"
     "  SIGINT or SIGTERM. With --tls-cert/--tls-key the API is served over HTTPS;\n"
     "  without, records (private data) are served to loopback clients only.\n"},
    {"testnet", mc_cli_cmd_testnet, "write a ready local consortium (genesis and node homes)",
     "medchain testnet --validators N --dir DIR [--members] [--chain-id ID]\n"
     "                 [--api-port P] [--p2p-port P]\n"
     "  Writes DIR/genesis.json and DIR/node0 ... with keys and configs: two hospitals, a\n"
     "  manufacturer and a regulator as the first validators; --members adds a pharmacy,\n"
     "  a research institute and a distributor with non-voting nodes. Node I serves its\n"
     "  API on port P+I (default 7700+I) and peers on 26600+I. Prints how to start each.\n"},
    {"load", mc_cli_cmd_load, "drive a consortium with signed transactions and measure it",
     "medchain load --key ADMIN_KEY --rate TX_PER_S --duration S [--node URL ...]\n"
     "  Enrolls its own clinicians with the organisation admin key (e.g. a testnet node's\n"
     "  admin_key.json), then has them register patients at the given total rate for the\n"
     "  given time, spread over the nodes. Prints committed transactions per second and\n"
     "  latency percentiles (submission to first seen committed). At most 100000 txs.\n"},
    {"keygen", mc_cli_cmd_keygen, "create a key file",
     "medchain keygen --out FILE [--passphrase-file F]\n"
     "  Writes a new Ed25519 key (mode 0600, encrypted when a passphrase is given,\n"
     "  also from $MEDCHAIN_PASSPHRASE) and prints its public key in hex.\n"},
    {"verify", mc_cli_cmd_verify, "re-check a node's chain on disk",
     "medchain verify --home DIR\n"
     "  Re-checks every block, certificate, signature, Merkle root and state row.\n"
     "  Exit 0: verified; 1: a mismatch (height and object printed); 3: could not run.\n"},
    {"backup", mc_cli_cmd_backup, "take a consistent copy of a node's home while it runs",
     "medchain backup --home DIR --out NEW_DIR [--no-key]\n"
     "  Copies the database in one snapshot (chain, state, record ciphertext of the sqlite\n"
     "  blob store), the genesis, config and node key (unless --no-key) and writes a\n"
     "  manifest with every file's SHA-256. The node keeps running.\n"},
    {"restore", mc_cli_cmd_restore, "rebuild a node's home from a backup, verified",
     "medchain restore --from BACKUP_DIR --home NEW_DIR\n"
     "  Checks every file against the manifest and verifies the whole chain before it\n"
     "  writes the home. Started, the node catches up from its peers. Restore a\n"
     "  validator only once its old instance is stopped for good.\n"},
    {"blobs sweep", mc_cli_cmd_blobs_sweep, "list or remove orphaned ciphertext (stopped node)",
     "medchain blobs sweep --home DIR [--remove] [--grace SECONDS]\n"
     "  Lists the ciphertext the node's blob store (SQLite or S3 bucket) holds that no\n"
     "  committed anchor of a live record names: uploads a crash left before their anchor\n"
     "  committed, objects with no index entry, bytes back after an erasure. Uploads younger\n"
     "  than --grace (default 3600 s) are left alone. --remove deletes them (every version).\n"
     "  One line each: 'orphan: HASH pending|unanchored|unindexed|erased [removed]'.\n"},
    {"blobs migrate", mc_cli_cmd_blobs_migrate, "move ciphertext from SQLite to S3 (stopped node)",
     "medchain blobs migrate --home DIR [--drop-local]\n"
     "  Copies every blob of the node's SQLite table into the S3 store its config.json now\n"
     "  names, reading each back (hash checked); tombstones of erased records move too.\n"
     "  Resumable: blobs already in the bucket are skipped. --drop-local empties the SQLite\n"
     "  table once everything is moved. Prints 'blob: HASH moved' lines, then the counts.\n"},
    {"member enroll", mc_cli_cmd_member_enroll, "enroll a member (organisation admin)",
     "medchain member enroll --key ADMIN_KEY (--member-key FILE | --member-pub HEX)\n"
     "                       --role ROLE --name NAME [options]\n"
     "  ROLE: clinician, pharmacist, researcher, auditor, manufacturer, distributor,\n"
     "  pharmacy or regulator.\n" SIGNER_OPTS},
    {"member revoke", mc_cli_cmd_member_revoke, "revoke a member (organisation admin)",
     "medchain member revoke --key ADMIN_KEY (--member-pub HEX | --member-key FILE)\n"
     "                       [--reason TEXT] [options]\n" SIGNER_OPTS},
    {"smart register", mc_cli_cmd_smart_register, "register a SMART Backend Services system client (member)",
     "medchain smart register --key MEMBER_KEY --client-id ID (--jwk FILE | --client-pub HEX)\n"
     "                        [--name TEXT] [options]\n"
     "  FILE: the client's public JWK: Ed25519 (kty OKP) or P-384 (kty EC). The client signs\n"
     "  private_key_jwt assertions (EdDSA or ES384) for POST /auth/token (docs/SMART.md).\n" SIGNER_OPTS},
    {"smart revoke", mc_cli_cmd_smart_revoke, "revoke a system client (its owner or an admin of the owner's organisation)",
     "medchain smart revoke --key KEY --client-id ID [options]\n" SIGNER_OPTS},
    {"invite create", mc_cli_cmd_invite_create, "invite a patient (clinician) or a member (admin): a one-time code",
     "medchain invite create --key CLINICIAN_KEY [--node URL]\n"
     "medchain invite create --key ADMIN_KEY --member --role ROLE --name NAME [--node URL]\n"},
    {"invite list", mc_cli_cmd_invite_list, "your invitations and their match codes (inviter)",
     "medchain invite list --key INVITER_KEY [--node URL]\n"},
    {"invite accept", mc_cli_cmd_invite_accept, "accept an invitation with your key (patient or new member)",
     "medchain invite accept CODE --patient-key FILE [--patient-passphrase-file F] [--node URL]\n"
     "medchain invite accept CODE --member-key FILE [--member-passphrase-file F] [--node URL]\n"},
    {"invite register", mc_cli_cmd_invite_register, "register the patient, or enroll the member, who accepted",
     "medchain invite register CODE --key INVITER_KEY [--role ROLE] [--name NAME] [--node URL]\n" SIGNER_OPTS},
    {"mrn set", mc_cli_cmd_mrn_set, "file your organisation's record number of a patient (clinician)",
     "medchain mrn set MRN (--patient HEX | --patient-key FILE) --key CLINICIAN_KEY [--node URL]\n"
     "  Kept on your organisation's node only, never on the ledger.\n"},
    {"subscription create", mc_cli_cmd_subscription_create,
     "FHIR Subscription to record and consent events, rest-hook (any account)",
     "medchain subscription create --key KEY --endpoint URL [--topic records|consents|all]\n"
     "                             [--patient HEX] [--payload id-only|empty] [--reason TEXT] [--end INSTANT]\n"
     "                             [--node URL]\n"},
    {"subscription list", mc_cli_cmd_subscription_list, "your subscriptions on this node",
     "medchain subscription list --key KEY [--json] [--node URL]\n"},
    {"subscription status", mc_cli_cmd_subscription_status, "a subscription's $status",
     "medchain subscription status ID --key KEY [--node URL]\n"},
    {"subscription delete", mc_cli_cmd_subscription_delete, "remove a subscription",
     "medchain subscription delete ID --key KEY [--node URL]\n"},
    {"mrn find", mc_cli_cmd_mrn_find, "the patient with a record number, or her number (member)",
     "medchain mrn find (MRN | --patient HEX) --key MEMBER_KEY [--node URL]\n"},
    {"patient register", mc_cli_cmd_patient_register, "register a patient's key (clinician)",
     "medchain patient register --key CLINICIAN_KEY --patient-key FILE\n"
     "                          [--patient-passphrase-file F] [options]\n"
     "  The patient's key signs its consent to be registered by this clinician.\n"
     SIGNER_OPTS},
    {"key rotate", mc_cli_cmd_key_rotate, "move an account to a new key",
     "medchain key rotate --key OLD_KEY --new-key FILE [--new-passphrase-file F] [options]\n"
     SIGNER_OPTS},
    {"gov propose", mc_cli_cmd_gov_propose, "propose a consortium change (organisation admin)",
     "medchain gov propose KIND [fields] --key ADMIN_KEY [--deadline H|+N] [--activation H|+N]\n"
     "  KIND and its fields:\n"
     "    add-org --name NAME --org-kind KIND [--gln GLN] (--admin-pub HEX | --admin-key F)\n"
     "    suspend-org | remove-org | reinstate-org --org ID\n"
     "    add-validator --org ID --name NAME --power N (--node-pub HEX | --node-key F)\n"
     "    add-node --org ID --name NAME (--node-pub HEX | --node-key F)\n"
     "    remove-validator (--node-pub HEX | --node-key F)\n"
     "    set-power --power N (--node-pub HEX | --node-key F)\n"
     "    set-param --param NAME --value N   (block_txs, block_bytes, tx_bytes,\n"
     "                                        timeout_propose|prevote|precommit)\n"
     "    replace-admin --org ID (--admin-pub HEX | --admin-key F)\n"
     "    upgrade --name NAME --version X.Y.Z --height H\n"
     "  It passes when more than 2/3 of the active organisations vote yes by the\n"
     "  deadline (default +20) and takes effect at the activation height (default\n"
     "  deadline + 2); a validator set change is in force two heights later.\n"
     SIGNER_OPTS},
    {"gov vote", mc_cli_cmd_gov_vote, "vote on a proposal, once per organisation (admin)",
     "medchain gov vote ID (--yes | --no) --key ADMIN_KEY [options]\n" SIGNER_OPTS},
    {"gov rotate-node", mc_cli_cmd_gov_rotate_node, "move a node of your organisation to a new key at a height (admin)",
     "medchain gov rotate-node (--node-pub HEX | --node-key F) --new-key F --key ADMIN_KEY\n"
     "                         [--at H|+N] [--new-passphrase-file F] [options]\n"
     "  From height --at (default +10, at least +3) the node signs with the new key; its\n"
     "  account moves two heights before. Put the new key at HOME/node_key.next.json of\n"
     "  the running node (it is picked up at the next block): no restart is needed.\n"
     SIGNER_OPTS},
    {"gov show", mc_cli_cmd_gov_show, "show a proposal and its votes",
     "medchain gov show ID [--node URL]\n"},
    {"gov list", mc_cli_cmd_gov_list, "list the newest proposals",
     "medchain gov list [--node URL]\n"},
    {"gov validators", mc_cli_cmd_gov_validators, "show the validator set of a height",
     "medchain gov validators [--height H] [--node URL]\n"},
    {"tx submit", mc_cli_cmd_tx_submit, "submit a signed transaction from a file",
     "medchain tx submit --file F [--raw] [--node URL] [--no-wait] [--timeout S]\n"
     "  F holds the transaction as raw bytes or hex. It is posted as JSON {\"tx\": hex},\n"
     "  or as application/octet-stream with --raw.\n"},
    {"tx build", mc_cli_cmd_tx_build, "build and sign a transaction without submitting it",
     "medchain tx build --type NAME|NUMBER (--payload-hex HEX | --payload-file F)\n"
     "                  --key FILE --out F [--nonce N] [--chain-id ID]\n"
     "                  [--passphrase-file F] [--node URL]\n"
     "  Writes the signed transaction in hex to F and prints its id. The node is asked\n"
     "  for the chain id and nonce only when --chain-id or --nonce is missing.\n"},
    {"tx show", mc_cli_cmd_tx_show, "show a transaction and its status",
     "medchain tx show ID [--node URL]\n"},
    {"block show", mc_cli_cmd_block_show, "show a block",
     "medchain block show HEIGHT|latest [--node URL]\n"},
    {"account show", mc_cli_cmd_account_show, "show an account",
     "medchain account show (HEX | --key FILE) [--node URL]\n"},
    {"status", mc_cli_cmd_status, "show the node's status", "medchain status [--node URL]\n"},
    {"drug commission", mc_cli_cmd_drug_commission, "commission serials of a lot (manufacturer)",
     "medchain drug commission --key KEY --gtin GTIN --lot LOT --expiry YYYY-MM-DD|YYMMDD\n"
     "                         (--serials S1,S2,... | --count N [--prefix P]) [options]\n"
     SIGNER_OPTS},
    {"drug aggregate", mc_cli_cmd_drug_aggregate, "pack units or cases into a case or pallet",
     "medchain drug aggregate --key KEY --into SSCC [--gtin GTIN --serials S1,..] [--sscc X,..]\n"
     SIGNER_OPTS},
    {"drug disaggregate", mc_cli_cmd_drug_disaggregate, "unpack a case or pallet",
     "medchain drug disaggregate --key KEY --sscc SSCC [options]\n" SIGNER_OPTS},
    {"drug ship", mc_cli_cmd_drug_ship, "ship packs or containers to an organisation (owner)",
     "medchain drug ship --key KEY --to ORG_ID [--gtin GTIN --serials S1,..] [--sscc X,..]\n"
     SIGNER_OPTS},
    {"drug receive", mc_cli_cmd_drug_receive, "receive what was shipped to your organisation",
     "medchain drug receive --key KEY [--gtin GTIN --serials S1,..] [--sscc X,..] [options]\n"
     SIGNER_OPTS},
    {"drug product", mc_cli_cmd_drug_product, "register a GTIN's product: name, strength, form, pack size (manufacturer)",
     "medchain drug product --key KEY --gtin GTIN --name NAME [--strength S] --form FORM --pack-size N\n"
     SIGNER_OPTS},
    {"drug dispense", mc_cli_cmd_drug_dispense, "dispense a pack (pharmacy)",
     "medchain drug dispense --key KEY --gtin GTIN --serial S [options]\n" SIGNER_OPTS},
    {"drug decommission", mc_cli_cmd_drug_decommission, "take a pack out of the supply chain",
     "medchain drug decommission --key KEY --gtin GTIN --serial S\n"
     "                           --reason destroyed|stolen|sample|exported [options]\n" SIGNER_OPTS},
    {"drug recall", mc_cli_cmd_drug_recall, "recall a lot (manufacturer or regulator)",
     "medchain drug recall --key KEY --gtin GTIN --lot LOT --reason TEXT [options]\n" SIGNER_OPTS},
    {"drug flag", mc_cli_cmd_drug_flag, "mark a pack suspect or illegitimate, or clear it",
     "medchain drug flag --key KEY --gtin GTIN --serial S --flag suspect|illegitimate|clear\n"
     "                   --reason TEXT [options]\n" SIGNER_OPTS},
    {"drug verify", mc_cli_cmd_drug_verify, "verify a scanned pack (public, no key)",
     "medchain drug verify CODE [--node URL] [--json | --html]\n"
     "  CODE is a GS1 Digital Link or the element string a scanner sends. Exit 0 when\n"
     "  genuine, 1 for any other verdict.\n"},
    {"light pack", mc_cli_cmd_light_pack, "check a pack's status, recall and custody as a light client",
     "medchain light pack CODE --genesis FILE [--node URL] [--answer FILE]\n"
     "  Trusts only the genesis file: checks the header by its certificate (every\n"
     "  signature), the pack's and its lot's rows (or their absence) against its state\n"
     "  root, and each custody transaction in its log. Exit 0 when all of it holds.\n"},
    {"light state", mc_cli_cmd_light_state, "check a state row or its absence as a light client",
     "medchain light state --genesis FILE (--key HEX | --account KEY) [--node URL]\n"},
    {"drug label", mc_cli_cmd_drug_label, "write a pack's Digital Link as a QR code (PNG, SVG)",
     "medchain drug label (--gtin G --lot L --serial S --expiry D | --link URI)\n"
     "                    [--base https://host] (--png F | --svg F) [--module-px N]\n"},
    {"drug alerts", mc_cli_cmd_drug_alerts, "clone and counterfeit alerts of an organisation",
     "medchain drug alerts --org ID [--node URL]\n"},
    {"drug vrs", mc_cli_cmd_drug_vrs, "signed GS1 LMS verification request (trading partner)",
     "medchain drug vrs --key KEY --gtin G --serial S --lot L --expiry YYMMDD --gln GLN\n"
     "                  [--corr ID] [--context dscsaSaleableReturn] [--node URL]\n"},
    {"genesis add-org", mc_cli_cmd_genesis_add_org, "add an organisation before the first block",
     "medchain genesis add-org --home DIR --id N --name NAME --kind KIND [--gln GLN]\n"
     "                         --admin-key-out FILE\n"
     "  Edits DIR/genesis.json of a node that has not started yet.\n"},
    {"study register", mc_cli_cmd_study_register, "register a research study (admin or researcher)",
     "medchain study register --key KEY --id ID --title T --sponsor S --registry-id R\n"
     "                        (--protocol-file F | --protocol-hash HEX) --categories LIST\n"
     "                        --primary \"O1;O2\" [--secondary \"O3\"] [--purpose TOKEN] [--k N]\n"
     "                        [--researchers HEX,HEX] [options]\n"
     "  Pre-registers the outcomes; LIST as for grants (results,problems or all).\n" SIGNER_OPTS},
    {"research consent", mc_cli_cmd_research_consent, "consent to research use (patient)",
     "medchain research consent --key PATIENT_KEY (--study ID | --purpose TOKEN) --version N\n"
     "                          --categories LIST [--expiry-ms MS] [options]\n"
     "  N is the next version for that study or purpose (1 for the first).\n" SIGNER_OPTS},
    {"research withdraw", mc_cli_cmd_research_withdraw, "withdraw a research consent (patient)",
     "medchain research withdraw --key PATIENT_KEY (--study ID | --purpose TOKEN) --version N\n"
     "                           [options]\n" SIGNER_OPTS},
    {"trial enrol", mc_cli_cmd_trial_enrol, "enrol a consenting patient (study team)",
     "medchain trial enrol --key KEY --study ID --patient HEX [options]\n" SIGNER_OPTS},
    {"trial amend", mc_cli_cmd_trial_amend, "record a protocol amendment (study team)",
     "medchain trial amend --key KEY --study ID (--protocol-file F | --protocol-hash HEX)\n"
     "                     --reason TEXT [--primary \"O\"] [--secondary \"O\"] [options]\n" SIGNER_OPTS},
    {"trial close", mc_cli_cmd_trial_close, "close enrolment (study team)",
     "medchain trial close --key KEY --study ID [options]\n" SIGNER_OPTS},
    {"trial lock", mc_cli_cmd_trial_lock, "lock the database: anchor the dataset's hash (study team)",
     "medchain trial lock --key KEY --study ID (--dataset-file F | --dataset-hash HEX) [options]\n"
     SIGNER_OPTS},
    {"trial results", mc_cli_cmd_trial_results, "post results: reported outcomes and dataset hash",
     "medchain trial results --key KEY --study ID (--dataset-file F | --dataset-hash HEX)\n"
     "                       --primary \"O1\" [--secondary \"O2;O3\"] [options]\n" SIGNER_OPTS},
    {"trial verify", mc_cli_cmd_trial_verify, "check a trial for outcome switching and altered data",
     "medchain trial verify STUDY [--json] [--node URL]\n"
     "  Reports outcomes reported but never registered or amended in, registered outcomes\n"
     "  never reported, a results dataset whose hash differs from the locked one, and\n"
     "  subjects enrolled without consent. Exit 0: clean; 1: findings or failure.\n"},
    {"record add", mc_cli_cmd_record_add, "add a FHIR resource about a patient (clinician)",
     "medchain record add --key CLINICIAN_KEY (--patient HEX | --patient-key F) --file RESOURCE.json\n"
     "                    [--purpose TREAT] [--no-wait] [--timeout S]" READ_OPTS
     "  Signs the request (RFC 9421); the node validates, encrypts and anchors it. Prints\n"
     "  id, type, version, anchor and, once committed, status and height.\n"},
    {"record amend", mc_cli_cmd_record_amend, "amend a record: a new version (clinician)",
     "medchain record amend TYPE/ID --key CLINICIAN_KEY (--patient HEX | --patient-key F)\n"
     "                      --file RESOURCE.json [--no-wait] [--timeout S]" READ_OPTS
     "  The previous versions stay readable (record get --version N).\n"},
    {"record import", mc_cli_cmd_record_import, "import a FHIR transaction Bundle (clinician)",
     "medchain record import --key CLINICIAN_KEY (--patient HEX | --patient-key F) --bundle F\n"
     "                       [--no-wait] [--timeout S]" READ_OPTS
     "  Every entry becomes a record in one anchor (all or nothing). Prints one\n"
     "  'record: Type/id/_history/1' line each, imported, anchor, status, height.\n"},
    {"record attach", mc_cli_cmd_record_attach, "attach a document or image to a patient's record (clinician)",
     "medchain record attach --key CLINICIAN_KEY (--patient HEX | --patient-key F) --file F\n"
     "                       --content-type TYPE [--no-wait] [--timeout S]" READ_OPTS
     "  Streams the file (up to 1 GiB, e.g. a PDF: --content-type application/pdf) to\n"
     "  POST /fhir/Binary; the node encrypts it in chunks and anchors it. Prints id, size,\n"
     "  anchor and, once committed, status. Point a DocumentReference at Binary/ID;\n"
     "  read it back with 'record get Binary/ID --out F'.\n"},
    {"record get", mc_cli_cmd_record_get, "read a record (signed, logged)",
     "medchain record get TYPE/ID|ID --key READER_KEY [--version N] [--purpose P]\n"
     "                    [--break-glass REASON] [--out F] [--patient HEX]" READ_OPTS
     "  P: TREAT, ETREAT, BTG, HRESCH, PATRQT, HOPERAT. A bare ID is looked up in the\n"
     "  patient's list (the signer's own, or --patient's when an auditor). Prints the\n"
     "  resource as JSON; with --out writes it and prints id, version, access_tx.\n"
     "  Binary/ID (an attachment) is streamed into --out, which it requires.\n"
     "  --break-glass: emergency access without a grant, flagged for review.\n"},
    {"record list", mc_cli_cmd_record_list, "list a patient's records (patient or auditor)",
     "medchain record list --key KEY [--patient HEX | --patient-key F] [--type T]" READ_OPTS
     "  One line each: 'record: ID TYPE CATEGORY versions=N live|erased author=KEY'.\n"},
    {"record export", mc_cli_cmd_record_export, "export all your records as a FHIR Bundle (patient)",
     "medchain record export --key PATIENT_KEY --out BUNDLE.json" READ_OPTS
     "  Patient/$everything: every record plus its Provenance (authorship, amendments).\n"},
    {"record provenance", mc_cli_cmd_record_provenance, "who authored and amended a record",
     "medchain record provenance TYPE/ID[/_history/V] --key READER_KEY [--json]" READ_OPTS
     "  FHIR Provenance from the record's anchors, one line per version:\n"
     "  'provenance: ID RECORDED CREATE|UPDATE target=REF author=KEY'.\n"},
    {"record erase", mc_cli_cmd_record_erase, "erase records (patient, GDPR Art. 17)",
     "medchain record erase ID [ID ...] --key PATIENT_KEY --yes [options]\n"
     "  Purges the ciphertext; later reads answer 410; the access log stays.\n" SIGNER_OPTS
     "  --cacert F             trust F's CA for an https:// node\n"},
    {"grant add", mc_cli_cmd_grant_add, "grant a member or organisation access (patient)",
     "medchain grant add --key PATIENT_KEY (--to-org ID | --to-member HEX | --to-member-key F)\n"
     "                   [--categories a,b] [--until TIME] [--no-keys] [options]\n"
     "  Categories: demographics, encounters, problems, results, medications, documents,\n"
     "  financial, provenance (default all). TIME: YYYY-MM-DD[THH:MM[:SS]Z] or +N(s|m|h|d).\n"
     "  Reseals the covered records' data keys to the grantee and its organisation's\n"
     "  nodes; prints keys, then the grant transaction's id (revoke with that id).\n"
     SIGNER_OPTS "  --cacert F             trust F's CA for an https:// node\n"},
    {"grant revoke", mc_cli_cmd_grant_revoke, "revoke a grant (patient)",
     "medchain grant revoke GRANT_ID --key PATIENT_KEY [options]\n" SIGNER_OPTS
     "  --cacert F             trust F's CA for an https:// node\n"},
    {"grant list", mc_cli_cmd_grant_list, "list a patient's grants (patient or auditor)",
     "medchain grant list --key KEY [--patient HEX | --patient-key F]" READ_OPTS},
    {"access log", mc_cli_cmd_access_log, "a patient's access log (patient or auditor)",
     "medchain access log --key PATIENT|AUDITOR [--patient HEX | --patient-key F | --all]\n"
     "                    [--agent HEX] [--date [ge|lt]YYYY[-MM[-DD]]]" READ_OPTS
     "  One line per read or refusal: 'access: TIME allowed|refused|security PURPOSE\n"
     "  ACTION record=ID by=KEY tx=ID reason=...'. --all: every patient's (auditors).\n"},
    {"breakglass list", mc_cli_cmd_breakglass_list, "break-glass accesses to review (auditor)",
     "medchain breakglass list --key AUDITOR_KEY [--open]" READ_OPTS},
    {"breakglass close", mc_cli_cmd_breakglass_close, "close a break-glass access after review",
     "medchain breakglass close ACCESS_TX --key AUDITOR_KEY --note TEXT [options]\n" SIGNER_OPTS
     "  --cacert F             trust F's CA for an https:// node\n"},
    {"proof", mc_cli_cmd_proof, "fetch and verify a transaction's inclusion proof",
     "medchain proof ID [--height H] [--node URL]\n"
     "  Prints the RFC 6962 inclusion proof against the ledger log at height H (default\n"
     "  latest) and verifies it locally against the returned root.\n"},
};

#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static void print_overview(FILE *out) {
    fprintf(out, "usage: medchain <command> [options]   (medchain <command> --help for more)\n"
                 "       medchain --version\n\n"
                 "commands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-18s %s\n", commands[i].words, commands[i].summary);
}

void mc_cli_usage(const char *words) {
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        if (strcmp(commands[i].words, words) == 0) {
            fprintf(stdout, "usage: %s", commands[i].usage);
            return;
        }
    }
    print_overview(stdout);
}

/* Whether argv starts with the words of a command; *n gets how many. */
static bool matches(const char *words, int argc, char **argv, int *n) {
    const char *space = strchr(words, ' ');
    if (!space) {
        *n = 1;
        return argc >= 1 && strcmp(argv[0], words) == 0;
    }
    size_t first = (size_t)(space - words);
    *n = 2;
    return argc >= 2 && strlen(argv[0]) == first && strncmp(argv[0], words, first) == 0 &&
           strcmp(argv[1], space + 1) == 0;
}

int main(int argc, char **argv) {
    mc_crypto_init();
    mc_log_set_level(MC_LOG_WARN);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        if (argc < 2) return mc_cli_error(MC_CLI_USAGE, "missing command (see 'medchain --help')");
        print_overview(stdout);
        return MC_CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("medchain %s (protocol v%d)\n", MC_VERSION, MC_PROTOCOL_VERSION);
        return MC_CLI_OK;
    }
    int rest = argc - 1;
    char **args = argv + 1;
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        int n;
        if (matches(commands[i].words, rest, args, &n))
            return commands[i].run(rest - n, args + n);
    }
    /* A known group word with a missing or unknown sub-command. */
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        const char *space = strchr(commands[i].words, ' ');
        if (space && strlen(args[0]) == (size_t)(space - commands[i].words) &&
            strncmp(args[0], commands[i].words, (size_t)(space - commands[i].words)) == 0) {
            if (rest >= 2 && (strcmp(args[1], "--help") == 0 || strcmp(args[1], "-h") == 0)) {
                fprintf(stdout, "usage:\n");
                for (size_t k = 0; k < COMMAND_COUNT; k++)
                    if (strncmp(commands[k].words, commands[i].words,
                                (size_t)(space - commands[i].words) + 1) == 0)
                        fprintf(stdout, "  medchain %-18s %s\n", commands[k].words,
                                commands[k].summary);
                return MC_CLI_OK;
            }
            return mc_cli_error(MC_CLI_USAGE, "'%s' needs a sub-command%s%s (see 'medchain --help')",
                                args[0], rest >= 2 ? ", not " : "", rest >= 2 ? args[1] : "");
        }
    }
    return mc_cli_error(MC_CLI_USAGE, "unknown command '%s' (see 'medchain --help')", args[0]);
}
