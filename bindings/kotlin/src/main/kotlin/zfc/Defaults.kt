// Hand-written beside the generated bindings (package zfc): what UniFFI 0.32 cannot generate.
package zfc

/**
 * The production configuration: the operating system's randomness, the system clock, Argon2id
 * at 64 MiB and 3 passes, keep-alives every 30 s. Change a field with `copy`:
 * `ClientConfig.defaults().copy(connectionPerRoom = true)`.
 *
 * (UniFFI 0.32 gives no Kotlin default to a record field whose type is an enum, so the
 * generated constructor asks for `randomness` and `clock`; this names them once.)
 */
fun ClientConfig.Companion.defaults(): ClientConfig =
    ClientConfig(randomness = Randomness.Os, clock = Clock.SYSTEM)

/** A new room's default settings: history since the last epoch, rotation every 100 messages. */
fun RoomSettings.Companion.defaults(): RoomSettings =
    RoomSettings(history = HistoryPolicy.SINCE_LAST_EPOCH)

/**
 * The shared code of any [ZfcException] (C's `zfc_result`, Python's `.code`), without a `when`
 * over the groups. Codes are small; `toInt()` is exact.
 */
val ZfcException.errorCode: Int
    get() = when (this) {
        is ZfcException.PeerMisbehaved -> code
        is ZfcException.ApiMisuse -> code
        is ZfcException.Invite -> code
        is ZfcException.RoomGone -> code
        is ZfcException.LocalState -> code
        is ZfcException.Link -> code
        is ZfcException.RelayRefused -> code
        is ZfcException.ConnectionClosed -> code
    }.toInt()

/** The name of [errorCode] (`WRONG_PASSWORD`, `REMOVED`, ...). */
val ZfcException.errorName: String
    get() = when (this) {
        is ZfcException.PeerMisbehaved -> name
        is ZfcException.ApiMisuse -> name
        is ZfcException.Invite -> name
        is ZfcException.RoomGone -> name
        is ZfcException.LocalState -> name
        is ZfcException.Link -> name
        is ZfcException.RelayRefused -> name
        is ZfcException.ConnectionClosed -> name
    }
