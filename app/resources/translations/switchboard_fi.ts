<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fi" sourcelanguage="en">
<context>
    <name>AccountCheck</name>
    <message>
        <source>the phone system address is empty</source>
        <translation>puhelinjärjestelmän osoite puuttuu</translation>
    </message>
    <message>
        <source>write the address without sip: or http://, e.g. pbx.example.com:5060</source>
        <translation>kirjoita osoite ilman sip:- tai http://-alkua, esim. pbx.example.com:5060</translation>
    </message>
    <message>
        <source>write only the phone system&apos;s address, e.g. pbx.example.com</source>
        <translation>kirjoita vain puhelinjärjestelmän osoite, esim. pbx.example.com</translation>
    </message>
    <message>
        <source>an IPv6 address needs its closing ]</source>
        <translation>IPv6-osoitteesta puuttuu loppusulje ]</translation>
    </message>
    <message>
        <source>the port %s is not a number from 1 to 65535</source>
        <translation>portti %s ei ole luku väliltä 1–65535</translation>
    </message>
    <message>
        <source>the SIP user is empty</source>
        <translation>SIP-käyttäjä puuttuu</translation>
    </message>
    <message>
        <source>write only the part before @, e.g. 1001</source>
        <translation>kirjoita vain @-merkkiä edeltävä osa, esim. 1001</translation>
    </message>
</context>
<context>
    <name>AccountForm</name>
    <message>
        <source>Phone system address</source>
        <translation>Puhelinjärjestelmän osoite</translation>
    </message>
    <message>
        <source>The registrar your administrator gave you, host[:port].</source>
        <translation>Ylläpitäjältä saamasi rekisteröintipalvelin, palvelin[:portti].</translation>
    </message>
    <message>
        <source>SIP user</source>
        <translation>SIP-käyttäjä</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>Salasana</translation>
    </message>
    <message>
        <source>Kept in the system keyring, never in a file.</source>
        <translation>Tallennetaan järjestelmän avainnippuun, ei koskaan tiedostoon.</translation>
    </message>
    <message>
        <source>Transport</source>
        <translation>Yhteystapa</translation>
    </message>
    <message>
        <source>TLS (encrypted)</source>
        <translation>TLS (salattu)</translation>
    </message>
    <message>
        <source>Your name</source>
        <translation>Nimesi</translation>
    </message>
    <message>
        <source>Shown to the people you call.</source>
        <translation>Näkyy niille, joille soitat.</translation>
    </message>
    <message>
        <source>the SIP user</source>
        <translation>SIP-käyttäjä</translation>
    </message>
    <message>
        <source>Sign-in user</source>
        <translation>Kirjautumistunnus</translation>
    </message>
    <message>
        <source>Test connection</source>
        <translation>Testaa yhteys</translation>
    </message>
    <message>
        <source>stored in the keyring (type to change)</source>
        <translation>tallennettu avainnippuun (kirjoita vaihtaaksesi)</translation>
    </message>
    <message>
        <source>Testing…</source>
        <translation>Testataan…</translation>
    </message>
    <message>
        <source>Registered as %s. The phone system accepts this account.</source>
        <translation>Rekisteröity tunnuksella %s. Puhelinjärjestelmä hyväksyy tämän tilin.</translation>
    </message>
    <message>
        <source>Fix the settings first: %s</source>
        <translation>Korjaa ensin asetukset: %s</translation>
    </message>
    <message>
        <source>The phone system address was not found%s. Check its spelling and your network.</source>
        <translation>Puhelinjärjestelmän osoitetta ei löytynyt%s. Tarkista kirjoitusasu ja verkkoyhteys.</translation>
    </message>
    <message>
        <source>The phone system could not be reached%s. Check the address, the port and the transport, and whether a firewall or VPN is in the way.</source>
        <translation>Puhelinjärjestelmään ei saatu yhteyttä%s. Tarkista osoite, portti ja yhteystapa sekä se, onko palomuuri tai VPN tiellä.</translation>
    </message>
    <message>
        <source>The phone system did not answer. Check the address, the port and the transport (UDP, TCP or TLS).</source>
        <translation>Puhelinjärjestelmä ei vastannut. Tarkista osoite, portti ja yhteystapa (UDP, TCP tai TLS).</translation>
    </message>
    <message>
        <source>The secure connection failed%s. Check that the phone system offers TLS on this port and that its certificate is valid.</source>
        <translation>Salattu yhteys epäonnistui%s. Tarkista, että puhelinjärjestelmä tarjoaa TLS:ää tässä portissa ja että sen varmenne on voimassa.</translation>
    </message>
    <message>
        <source>The phone system refused the user or password%s. Check both (and the sign-in user, if your administrator gave you one).</source>
        <translation>Puhelinjärjestelmä hylkäsi käyttäjän tai salasanan%s. Tarkista molemmat (ja kirjautumistunnus, jos ylläpitäjä antoi sellaisen).</translation>
    </message>
    <message>
        <source>The phone system asks for a password%s: enter it.</source>
        <translation>Puhelinjärjestelmä pyytää salasanaa%s: kirjoita se.</translation>
    </message>
    <message>
        <source>The phone system does not know this user%s. Check the SIP user.</source>
        <translation>Puhelinjärjestelmä ei tunne tätä käyttäjää%s. Tarkista SIP-käyttäjä.</translation>
    </message>
    <message>
        <source>The phone system refused the registration%s.</source>
        <translation>Puhelinjärjestelmä hylkäsi rekisteröinnin%s.</translation>
    </message>
</context>
<context>
    <name>AudioController</name>
    <message>
        <source>Microphone</source>
        <translation>Mikrofoni</translation>
    </message>
    <message>
        <source>Speaker</source>
        <translation>Kaiutin</translation>
    </message>
    <message>
        <source>Ringer</source>
        <translation>Soittoääni</translation>
    </message>
    <message>
        <source>No microphone to test.</source>
        <translation>Testattavaa mikrofonia ei ole.</translation>
    </message>
    <message>
        <source>No microphone or speaker found. Calls still connect, but you will not hear the caller. Plug in a headset; Switchboard picks it up at once.</source>
        <translation>Mikrofonia tai kaiutinta ei löytynyt. Puhelut yhdistyvät silti, mutta et kuule soittajaa. Kytke kuulokkeet; Switchboard ottaa ne käyttöön heti.</translation>
    </message>
    <message>
        <source>%1 &quot;%2&quot; was unplugged; using %3.</source>
        <translation>%1 &quot;%2&quot; irrotettiin; käytössä nyt %3.</translation>
    </message>
    <message>
        <source>none</source>
        <translation>ei mitään</translation>
    </message>
    <message>
        <source>Your audio choice works now but was not saved: %s</source>
        <translation>Äänivalintasi on käytössä, mutta sitä ei tallennettu: %s</translation>
    </message>
    <message>
        <source>%1 &quot;%2&quot; is not connected; using the system default (%3) until it is back.</source>
        <translation>%1 &quot;%2&quot; ei ole kytkettynä; käytetään järjestelmän oletusta (%3), kunnes se palaa.</translation>
    </message>
</context>
<context>
    <name>AudioSettingsDialog</name>
    <message>
        <source>Audio settings</source>
        <translation>Ääniasetukset</translation>
    </message>
</context>
<context>
    <name>AudioSettingsPage</name>
    <message>
        <source>Microphone</source>
        <translation>Mikrofoni</translation>
    </message>
    <message>
        <source>Speaker</source>
        <translation>Kaiutin</translation>
    </message>
    <message>
        <source>Ringer</source>
        <translation>Soittoääni</translation>
    </message>
    <message>
        <source>Test microphone</source>
        <translation>Testaa mikrofoni</translation>
    </message>
    <message>
        <source>Test speaker</source>
        <translation>Testaa kaiutin</translation>
    </message>
    <message>
        <source>Test ringer</source>
        <translation>Testaa soittoääni</translation>
    </message>
    <message>
        <source>Volume</source>
        <translation>Äänenvoimakkuus</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>Taso</translation>
    </message>
    <message>
        <source>Play a tone for each key pressed in a call</source>
        <translation>Soita merkkiääni jokaisesta puhelun aikana painetusta näppäimestä</translation>
    </message>
    <message>
        <source>Cancel echo from laptop speakers (after a restart)</source>
        <translation>Poista kannettavan kaiuttimien kaiku (uudelleenkäynnistyksen jälkeen)</translation>
    </message>
    <message>
        <source>Uses the sound system&apos;s own echo canceller. A headset needs none.</source>
        <translation>Käyttää äänijärjestelmän omaa kaiunpoistoa. Kuulokkeet eivät tarvitse sitä.</translation>
    </message>
    <message>
        <source>System default</source>
        <translation>Järjestelmän oletus</translation>
    </message>
    <message>
        <source>%s (not connected)</source>
        <translation>%s (ei kytkettynä)</translation>
    </message>
    <message>
        <source>Recording… speak now (3 s)</source>
        <translation>Nauhoitetaan… puhu nyt (3 s)</translation>
    </message>
    <message>
        <source>Playing back what was recorded…</source>
        <translation>Toistetaan nauhoitettu ääni…</translation>
    </message>
</context>
<context>
    <name>AvailabilityWiring</name>
    <message>
        <source>Upcoming availabilities</source>
        <translation>Tulevat tavoitettavuudet</translation>
    </message>
    <message>
        <source>Queues</source>
        <translation>Jonot</translation>
    </message>
    <message>
        <source>Colleagues</source>
        <translation>Kollegat</translation>
    </message>
    <message>
        <source>Callback requests (%s)</source>
        <translation>Takaisinsoittopyynnöt (%s)</translation>
    </message>
    <message>
        <source>Select your status</source>
        <translation>Valitse tilasi</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Valmis</translation>
    </message>
    <message>
        <source>End wrap-up now</source>
        <translation>Lopeta jälkikirjaus nyt</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Tila</translation>
    </message>
    <message>
        <source>Work</source>
        <translation type="vanished">Työ</translation>
    </message>
    <message>
        <source>Queues and availability are not linked to the phone system: %s</source>
        <translation>Jonoja ja tavoitettavuutta ei ole yhdistetty puhelinjärjestelmään: %s</translation>
    </message>
    <message>
        <source>There is no status called %s.</source>
        <translation>Tilaa nimeltä %s ei ole.</translation>
    </message>
    <message>
        <source>Not scheduled: %s</source>
        <translation>Ei ajastettu: %s</translation>
    </message>
</context>
<context>
    <name>CallCard</name>
    <message>
        <source>Answer</source>
        <translation>Vastaa</translation>
    </message>
    <message>
        <source>Decline</source>
        <translation>Hylkää</translation>
    </message>
    <message>
        <source>Mute</source>
        <translation>Mykistä</translation>
    </message>
    <message>
        <source>Hold</source>
        <translation>Pito</translation>
    </message>
    <message>
        <source>Keypad</source>
        <translation>Näppäimistö</translation>
    </message>
    <message>
        <source>Hang up</source>
        <translation>Lopeta puhelu</translation>
    </message>
    <message>
        <source>Transfer…</source>
        <translation>Siirrä…</translation>
    </message>
    <message>
        <source>Consult…</source>
        <translation>Konsultoi…</translation>
    </message>
    <message>
        <source>Complete transfer</source>
        <translation>Viimeistele siirto</translation>
    </message>
    <message>
        <source>Swap</source>
        <translation>Vaihda</translation>
    </message>
    <message>
        <source>Unknown caller</source>
        <translation>Tuntematon soittaja</translation>
    </message>
    <message>
        <source>Queue: %s</source>
        <translation>Jono: %s</translation>
    </message>
    <message>
        <source>Direct</source>
        <translation>Suora puhelu</translation>
    </message>
    <message>
        <source>Outbound, shown as %s</source>
        <translation>Lähtevä, näkyy numerona %s</translation>
    </message>
    <message>
        <source>Outbound</source>
        <translation>Lähtevä</translation>
    </message>
    <message>
        <source>Unmute</source>
        <translation>Poista mykistys</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>Jatka</translation>
    </message>
    <message>
        <source>Transfer now</source>
        <translation>Siirrä heti</translation>
    </message>
    <message>
        <source>Hand the caller to this colleague now, without waiting for an answer</source>
        <translation>Siirrä asiakas tälle kollegalle heti, vastausta odottamatta</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Peruuta</translation>
    </message>
    <message>
        <source>Consulting about %s (on hold)</source>
        <translation>Konsultoidaan asiakkaasta %s (pidossa)</translation>
    </message>
    <message>
        <source>Consulting about %s</source>
        <translation>Konsultoidaan asiakkaasta %s</translation>
    </message>
    <message>
        <source>Consulting %s</source>
        <translation>Konsultoidaan: %s</translation>
    </message>
    <message>
        <source>The other side refused the hold (%s): the call is not on hold.</source>
        <translation>Vastapuoli ei hyväksynyt pitoa (%s): puhelu ei ole pidossa.</translation>
    </message>
    <message>
        <source>The other side did not answer the hold: the call is not on hold.</source>
        <translation>Vastapuoli ei vastannut pitoon: puhelu ei ole pidossa.</translation>
    </message>
    <message>
        <source>The other side refused to resume (%s): the call is still on hold.</source>
        <translation>Vastapuoli ei hyväksynyt jatkamista (%s): puhelu on yhä pidossa.</translation>
    </message>
    <message>
        <source>The other side did not answer the resume: the call is still on hold.</source>
        <translation>Vastapuoli ei vastannut jatkamiseen: puhelu on yhä pidossa.</translation>
    </message>
    <message>
        <source>Call waiting</source>
        <translation>Koputus</translation>
    </message>
    <message>
        <source>Incoming call</source>
        <translation>Saapuva puhelu</translation>
    </message>
    <message>
        <source>Calling…</source>
        <translation>Soitetaan…</translation>
    </message>
    <message>
        <source>Ringing…</source>
        <translation>Hälyttää…</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Yhdistetään…</translation>
    </message>
    <message>
        <source>On hold  %s</source>
        <translation>Pidossa  %s</translation>
    </message>
    <message>
        <source>Connected, muted  %s</source>
        <translation>Yhdistetty, mykistetty  %s</translation>
    </message>
    <message>
        <source>Connected  %s</source>
        <translation>Yhdistetty  %s</translation>
    </message>
    <message>
        <source>Taken over by the colleague&apos;s call</source>
        <translation>Kollegan puhelu otti tämän puhelun</translation>
    </message>
    <message>
        <source>The caller moved this call to %s</source>
        <translation>Soittaja siirsi puhelun numeroon %s</translation>
    </message>
    <message>
        <source>Transferring to %s…</source>
        <translation>Siirretään: %s…</translation>
    </message>
    <message>
        <source>%s is ringing…</source>
        <translation>%s hälyttää…</translation>
    </message>
    <message>
        <source>Transferred to %s</source>
        <translation>Siirretty: %s</translation>
    </message>
    <message>
        <source>Transfer to %s failed%s. You are talking to the caller again.</source>
        <translation>Siirto kohteeseen %s epäonnistui%s. Puhut taas soittajan kanssa.</translation>
    </message>
    <message>
        <source>Transfer to %s failed%s. The caller is on hold.</source>
        <translation>Siirto kohteeseen %s epäonnistui%s. Soittaja on pidossa.</translation>
    </message>
</context>
<context>
    <name>CallNotes</name>
    <message>
        <source>Call notes</source>
        <translation>Puhelun muistiinpanot</translation>
    </message>
    <message>
        <source>Notes for this call go into the CRM with it.</source>
        <translation>Tämän puhelun muistiinpanot tallentuvat CRM:ään puhelun mukana.</translation>
    </message>
    <message>
        <source>Notes — %s</source>
        <translation>Muistiinpanot — %s</translation>
    </message>
</context>
<context>
    <name>CallPanel</name>
    <message>
        <source>No calls</source>
        <translation>Ei puheluita</translation>
    </message>
</context>
<context>
    <name>CallbackList</name>
    <message>
        <source>Task %1 in the CRM</source>
        <translation>Tehtävä %1 CRM:ssä</translation>
    </message>
    <message>
        <source>Case %1 in the CRM</source>
        <translation>Tapaus %1 CRM:ssä</translation>
    </message>
    <message>
        <source>Not saved yet: %1</source>
        <translation>Ei vielä tallennettu: %1</translation>
    </message>
    <message>
        <source>Call back</source>
        <translation>Soita takaisin</translation>
    </message>
</context>
<context>
    <name>ColleagueList</name>
    <message>
        <source>No colleagues are listed in the settings.</source>
        <translation>Asetuksissa ei ole lueteltu kollegoita.</translation>
    </message>
    <message>
        <source>Click to call %1</source>
        <translation>Soita napsauttamalla: %1</translation>
    </message>
    <message>
        <source>Available</source>
        <translation>Tavoitettavissa</translation>
    </message>
    <message>
        <source>Not available</source>
        <translation>Ei tavoitettavissa</translation>
    </message>
    <message>
        <source>Presence not known</source>
        <translation>Tila ei tiedossa</translation>
    </message>
</context>
<context>
    <name>CrmNames</name>
    <message>
        <source>%d matches in %s</source>
        <translation>%d osumaa: %s</translation>
    </message>
    <message>
        <source>Refused</source>
        <translation>Torjuttu</translation>
    </message>
    <message>
        <source>From %s</source>
        <translation>Lähde: %s</translation>
    </message>
    <message>
        <source>Not in %s</source>
        <translation>Ei löydy: %s</translation>
    </message>
    <message>
        <source>Refused: %s</source>
        <translation>Torjuttu: %s</translation>
    </message>
    <message>
        <source>Built-in CRM</source>
        <translation>Sisäinen CRM</translation>
    </message>
    <message>
        <source>in wrap-up</source>
        <translation>jälkikirjaus</translation>
    </message>
    <message>
        <source>do not disturb</source>
        <translation>älä häiritse</translation>
    </message>
    <message>
        <source>off work</source>
        <translation>poissa töistä</translation>
    </message>
    <message>
        <source>not receiving pool calls</source>
        <translation>ei ota poolipuheluita</translation>
    </message>
    <message>
        <source>too many calls</source>
        <translation>liikaa puheluita</translation>
    </message>
    <message>
        <source>on another call</source>
        <translation>toisessa puhelussa</translation>
    </message>
</context>
<context>
    <name>CrmPages</name>
    <message>
        <source>CRM not reachable — the call goes on</source>
        <translation>CRM ei vastaa — puhelu jatkuu</translation>
    </message>
    <message>
        <source>en</source>
        <translation>fi</translation>
    </message>
    <message>
        <source>Contact</source>
        <translation>Yhteyshenkilö</translation>
    </message>
    <message>
        <source>Account</source>
        <translation>Asiakasyritys</translation>
    </message>
    <message>
        <source>Lead</source>
        <translation>Liidi</translation>
    </message>
    <message>
        <source>Case</source>
        <translation>Tapaus</translation>
    </message>
    <message>
        <source>Contact &amp; Account</source>
        <translation>Yhteyshenkilö ja asiakasyritys</translation>
    </message>
    <message>
        <source>Contact &amp; Lead</source>
        <translation>Yhteyshenkilö ja liidi</translation>
    </message>
    <message>
        <source>Phone call</source>
        <translation>Puhelu</translation>
    </message>
    <message>
        <source>answered</source>
        <translation>vastattu</translation>
    </message>
    <message>
        <source>missed</source>
        <translation>vastaamaton</translation>
    </message>
    <message>
        <source>declined</source>
        <translation>hylätty</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>epäonnistui</translation>
    </message>
    <message>
        <source>busy</source>
        <translation>varattu</translation>
    </message>
    <message>
        <source>no answer</source>
        <translation>ei vastausta</translation>
    </message>
    <message>
        <source>open</source>
        <translation>avoin</translation>
    </message>
    <message>
        <source>closed</source>
        <translation>suljettu</translation>
    </message>
    <message>
        <source>Calls</source>
        <translation>Puhelut</translation>
    </message>
    <message>
        <source>No calls logged yet.</source>
        <translation>Puheluita ei ole vielä kirjattu.</translation>
    </message>
    <message>
        <source>Calls on this case</source>
        <translation>Tapauksen puhelut</translation>
    </message>
    <message>
        <source>No calls saved on this case.</source>
        <translation>Tapaukseen ei ole tallennettu puheluita.</translation>
    </message>
    <message>
        <source>Who is calling?</source>
        <translation>Kuka soittaa?</translation>
    </message>
    <message>
        <source>No record has this number</source>
        <translation>Numerolla ei löytynyt tietuetta</translation>
    </message>
    <message>
        <source>Unknown caller</source>
        <translation>Tuntematon soittaja</translation>
    </message>
    <message>
        <source>Caller identified</source>
        <translation>Soittaja tunnistettu</translation>
    </message>
    <message>
        <source>%d matches</source>
        <translation>%d osumaa</translation>
    </message>
    <message>
        <source>Unknown number</source>
        <translation>Tuntematon numero</translation>
    </message>
    <message>
        <source>Latest cases</source>
        <translation>Viimeisimmät tapaukset</translation>
    </message>
    <message>
        <source>No cases.</source>
        <translation>Ei tapauksia.</translation>
    </message>
    <message>
        <source>Choose</source>
        <translation>Valitse</translation>
    </message>
    <message>
        <source>Open tasks</source>
        <translation>Avoimet tehtävät</translation>
    </message>
    <message>
        <source>No open tasks.</source>
        <translation>Ei avoimia tehtäviä.</translation>
    </message>
    <message>
        <source>Search for the caller, or create a new record.</source>
        <translation>Hae soittajaa tai luo uusi tietue.</translation>
    </message>
    <message>
        <source>Nothing found.</source>
        <translation>Ei tuloksia.</translation>
    </message>
    <message>
        <source>Page not found</source>
        <translation>Sivua ei löydy</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>Titteli</translation>
    </message>
    <message>
        <source>Email</source>
        <translation>Sähköposti</translation>
    </message>
    <message>
        <source>Phone</source>
        <translation>Puhelin</translation>
    </message>
    <message>
        <source>Website</source>
        <translation>Verkkosivusto</translation>
    </message>
    <message>
        <source>Contacts</source>
        <translation>Yhteyshenkilöt</translation>
    </message>
    <message>
        <source>No contacts.</source>
        <translation>Ei yhteyshenkilöitä.</translation>
    </message>
    <message>
        <source>Cases</source>
        <translation>Tapaukset</translation>
    </message>
    <message>
        <source>Company</source>
        <translation>Yritys</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Tila</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>Kuvaus</translation>
    </message>
    <message>
        <source>Log call here</source>
        <translation>Kirjaa puhelu tähän</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>Avaa</translation>
    </message>
    <message>
        <source>Update phone</source>
        <translation>Päivitä numero</translation>
    </message>
    <message>
        <source>Choose a case</source>
        <translation>Valitse tapaus</translation>
    </message>
    <message>
        <source>This contact has no cases.</source>
        <translation>Yhteyshenkilöllä ei ole tapauksia.</translation>
    </message>
    <message>
        <source>New contact</source>
        <translation>Uusi yhteyshenkilö</translation>
    </message>
    <message>
        <source>Results for “%s”</source>
        <translation>Tulokset haulle ”%s”</translation>
    </message>
    <message>
        <source>Caller</source>
        <translation>Soittaja</translation>
    </message>
    <message>
        <source>Queue</source>
        <translation>Jono</translation>
    </message>
    <message>
        <source>Search the CRM</source>
        <translation>Hae CRM:stä</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>Hae</translation>
    </message>
    <message>
        <source>Name, company, email or case number</source>
        <translation>Nimi, yritys, sähköposti tai tapausnumero</translation>
    </message>
    <message>
        <source>No call</source>
        <translation>Ei puhelua</translation>
    </message>
    <message>
        <source>Records pop up here when a call rings.</source>
        <translation>Asiakastiedot avautuvat tähän, kun puhelu soi.</translation>
    </message>
    <message>
        <source>Looking up…</source>
        <translation>Haetaan…</translation>
    </message>
    <message>
        <source>A case opens when you answer.</source>
        <translation>Tapaus avautuu, kun vastaat.</translation>
    </message>
    <message>
        <source>There is no page %s.</source>
        <translation>Sivua %s ei ole.</translation>
    </message>
    <message>
        <source>Record not found</source>
        <translation>Tietuetta ei löydy</translation>
    </message>
    <message>
        <source>The CRM could not show this</source>
        <translation>CRM ei voinut näyttää tätä</translation>
    </message>
    <message>
        <source>(deleted contact)</source>
        <translation>(poistettu yhteyshenkilö)</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>Tyyppi</translation>
    </message>
    <message>
        <source>Full name</source>
        <translation>Koko nimi</translation>
    </message>
    <message>
        <source>New account</source>
        <translation>Uusi asiakasyritys</translation>
    </message>
    <message>
        <source>New lead</source>
        <translation>Uusi liidi</translation>
    </message>
    <message>
        <source>Cases for “%s”</source>
        <translation>Tapaukset haulle ”%s”</translation>
    </message>
    <message>
        <source>Direct</source>
        <translation>Suora puhelu</translation>
    </message>
    <message>
        <source>Incoming call</source>
        <translation>Saapuva puhelu</translation>
    </message>
    <message>
        <source>Task</source>
        <translation>Tehtävä</translation>
    </message>
    <message>
        <source>due</source>
        <translation>erääntyy</translation>
    </message>
    <message>
        <source>New case without identification</source>
        <translation>Uusi tapaus ilman tunnistusta</translation>
    </message>
    <message>
        <source>New case</source>
        <translation>Uusi tapaus</translation>
    </message>
    <message>
        <source>First name</source>
        <translation>Etunimi</translation>
    </message>
    <message>
        <source>A case in this CRM needs a customer. Choose the caller, search for them, or add them as a new contact; then create the case.</source>
        <translation>Tämän CRM:n tapaukselle tarvitaan asiakas. Valitse soittaja, hae hänet tai lisää hänet uutena yhteyshenkilönä; luo sitten tapaus.</translation>
    </message>
    <message>
        <source>Last name</source>
        <translation>Sukunimi</translation>
    </message>
    <message>
        <source>Has this number</source>
        <translation>Numero on jo tallennettu</translation>
    </message>
    <message>
        <source>Account name</source>
        <translation>Yrityksen nimi</translation>
    </message>
</context>
<context>
    <name>CrmWiring</name>
    <message>
        <source>Logged</source>
        <translation>Kirjattu</translation>
    </message>
    <message>
        <source>Not logged</source>
        <translation>Ei kirjattu</translation>
    </message>
    <message>
        <source>The %s CRM is not supported yet; calls are not looked up or logged.</source>
        <translation>CRM-järjestelmää %s ei vielä tueta; puheluita ei haeta eikä kirjata.</translation>
    </message>
    <message>
        <source>Salesforce is chosen but salesforce.client_id is empty; ask your Salesforce admin for the External Client App&apos;s consumer key.</source>
        <translation>Salesforce on valittu, mutta salesforce.client_id on tyhjä; pyydä Salesforce-ylläpitäjältä External Client Appin kuluttaja-avain (consumer key).</translation>
    </message>
    <message>
        <source>Salesforce: your org has used %d of its %d daily API requests (%.0f %%). Call logs keep going into the outbox; tell your Salesforce admin.</source>
        <translation>Salesforce: organisaatiosi on käyttänyt %d sen %d päivittäisestä API-pyynnöstä (%.0f %%). Puhelukirjaukset jatkavat lähtevien jonoon; kerro Salesforce-ylläpitäjälle.</translation>
    </message>
    <message>
        <source>Switchboard is not signed in to Salesforce: callers are not looked up and call logs wait in the outbox.</source>
        <translation>Switchboard ei ole kirjautunut Salesforceen: soittajia ei haeta ja puhelukirjaukset odottavat lähtevien jonossa.</translation>
    </message>
    <message>
        <source>Sign in to Salesforce</source>
        <translation>Kirjaudu Salesforceen</translation>
    </message>
    <message>
        <source>Sign in to Salesforce: on any device, open %s and enter the code %s.</source>
        <translation>Kirjaudu Salesforceen: avaa millä tahansa laitteella %s ja syötä koodi %s.</translation>
    </message>
    <message>
        <source>Omni-Channel: offline</source>
        <translation>Omni-Channel: offline-tilassa</translation>
    </message>
    <message>
        <source>Omni-Channel: %s</source>
        <translation>Omni-Channel: %s</translation>
    </message>
    <message>
        <source>Omni-Channel: %s (not mapped to a status here)</source>
        <translation>Omni-Channel: %s (ei vastaavaa tilaa täällä)</translation>
    </message>
    <message>
        <source>Dynamics 365 is chosen but dynamics.org_url or dynamics.client_id is empty; ask your Dynamics 365 administrator for them.</source>
        <translation>Dynamics 365 on valittu, mutta dynamics.org_url tai dynamics.client_id on tyhjä; pyydä ne Dynamics 365 -ylläpitäjältä.</translation>
    </message>
    <message>
        <source>Switchboard is not signed in to Dynamics 365: callers are not looked up and call logs wait in the outbox.</source>
        <translation>Switchboard ei ole kirjautunut Dynamics 365:een: soittajia ei haeta ja puhelukirjaukset odottavat lähtevien jonossa.</translation>
    </message>
    <message>
        <source>Sign in to Dynamics 365</source>
        <translation>Kirjaudu Dynamics 365:een</translation>
    </message>
    <message>
        <source>The built-in CRM could not be created: %s</source>
        <translation>Sisäistä CRM:ää ei voitu luoda: %s</translation>
    </message>
    <message>
        <source>Read again</source>
        <translation>Lue uudelleen</translation>
    </message>
    <message>
        <source>%s — the CRM is slow to answer; the call goes on</source>
        <translation>%s — CRM vastaa hitaasti; puhelu jatkuu</translation>
    </message>
    <message>
        <source>This call could not be saved for the CRM: %s</source>
        <translation>Tätä puhelua ei voitu tallentaa CRM:ää varten: %s</translation>
    </message>
    <message>
        <source>Complete and save the phone call form</source>
        <translation>Täydennä ja tallenna puhelulomake</translation>
    </message>
    <message>
        <source>The CRM could not do that: %s</source>
        <translation>CRM ei voinut tehdä tätä: %s</translation>
    </message>
    <message>
        <source>Omni-Channel status: sign in to read it.</source>
        <translation>Omni-Channel-tila: kirjaudu sisään lukeaksesi sen.</translation>
    </message>
    <message>
        <source>Omni-Channel status could not be read: %s</source>
        <translation>Omni-Channel-tilaa ei voitu lukea: %s</translation>
    </message>
    <message>
        <source>The CRM lookup failed: %s</source>
        <translation>Haku CRM:stä epäonnistui: %s</translation>
    </message>
    <message>
        <source>Phone call from %s</source>
        <translation>Puhelu: %s</translation>
    </message>
    <message>
        <source>Finish the sign-in in your web browser…</source>
        <translation>Viimeistele kirjautuminen selaimessa…</translation>
    </message>
</context>
<context>
    <name>DialPad</name>
    <message>
        <source>Number or SIP address</source>
        <translation>Nro tai SIP-osoite</translation>
    </message>
    <message>
        <source>Number to call</source>
        <translation>Soitettava numero</translation>
    </message>
    <message>
        <source>Call</source>
        <translation>Soita</translation>
    </message>
    <message>
        <source>Call this number (Enter)</source>
        <translation>Soita tähän numeroon (Enter)</translation>
    </message>
    <message>
        <source>Keypad</source>
        <translation>Näppäimet</translation>
    </message>
    <message>
        <source>Show or hide the number keys</source>
        <translation>Näytä tai piilota numeronäppäimet</translation>
    </message>
    <message>
        <source>Number shown to the callee</source>
        <translation>Vastaanottajalle näkyvä numero</translation>
    </message>
    <message>
        <source>Show as</source>
        <translation>Näytä numerona</translation>
    </message>
    <message>
        <source>Work number (%1)</source>
        <translation>Työnumero (%1)</translation>
    </message>
    <message>
        <source>Phone system&apos;s default</source>
        <translation>Puhelinjärjestelmän oletus</translation>
    </message>
    <message>
        <source>Don&apos;t show number</source>
        <translation>Älä näytä numeroa</translation>
    </message>
</context>
<context>
    <name>FirstRunAssistant</name>
    <message>
        <source>Set up Switchboard</source>
        <translation>Switchboardin käyttöönotto</translation>
    </message>
    <message>
        <source>Welcome to Switchboard</source>
        <translation>Tervetuloa Switchboardiin</translation>
    </message>
    <message>
        <source>Enter the phone account your administrator gave you. Test it, then start the phone. Everything else (audio, CRM, queues) can be set later under Settings.</source>
        <translation>Anna ylläpitäjältä saamasi puhelintili. Testaa se ja käynnistä sitten puhelin. Muut asetukset (ääni, CRM, jonot) voi tehdä myöhemmin kohdassa Asetukset.</translation>
    </message>
    <message>
        <source>Start the phone</source>
        <translation>Käynnistä puhelin</translation>
    </message>
    <message>
        <source>Later</source>
        <translation>Myöhemmin</translation>
    </message>
    <message>
        <source>Fix the marked fields first.</source>
        <translation>Korjaa ensin merkityt kentät.</translation>
    </message>
</context>
<context>
    <name>HistoryView</name>
    <message>
        <source>Search number or name</source>
        <translation>Hae numerolla tai nimellä</translation>
    </message>
    <message>
        <source>All calls</source>
        <translation>Kaikki puhelut</translation>
    </message>
    <message>
        <source>Missed</source>
        <translation>Vastaamaton</translation>
    </message>
    <message>
        <source>Incoming</source>
        <translation>Saapuva</translation>
    </message>
    <message>
        <source>Outgoing</source>
        <translation>Lähtevä</translation>
    </message>
    <message>
        <source>Caller</source>
        <translation>Soittaja</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>Tulos</translation>
    </message>
    <message>
        <source>When</source>
        <translation>Aika</translation>
    </message>
    <message>
        <source>Length</source>
        <translation>Kesto</translation>
    </message>
    <message>
        <source>Call back</source>
        <translation>Soita takaisin</translation>
    </message>
    <message>
        <source>Play recording</source>
        <translation>Toista nauhoite</translation>
    </message>
    <message>
        <source>Unknown</source>
        <translation>Tuntematon</translation>
    </message>
    <message>
        <source>Queue: %s</source>
        <translation>Jono: %s</translation>
    </message>
    <message>
        <source>Direct</source>
        <translation>Suora puhelu</translation>
    </message>
    <message>
        <source>%s in %s</source>
        <translation>%s (%s)</translation>
    </message>
    <message>
        <source>Recorded</source>
        <translation>Nauhoitettu</translation>
    </message>
    <message>
        <source>Quality: MOS %.1f (lowest %.1f), %.1f %% lost, jitter up to %.0f ms</source>
        <translation>Laatu: MOS %.1f (heikoin %.1f), %.1f %% hukattu, värinä enintään %.0f ms</translation>
    </message>
    <message>
        <source>Answered</source>
        <translation>Vastattu</translation>
    </message>
    <message>
        <source>Declined</source>
        <translation>Hylätty</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Epäonnistui</translation>
    </message>
    <message>
        <source>Busy</source>
        <translation>Varattu</translation>
    </message>
    <message>
        <source>No answer</source>
        <translation>Ei vastausta</translation>
    </message>
</context>
<context>
    <name>IncomingCallToast</name>
    <message>
        <source>Incoming call</source>
        <translation>Saapuva puhelu</translation>
    </message>
    <message>
        <source>Unknown number</source>
        <translation>Tuntematon numero</translation>
    </message>
    <message>
        <source>Queue: {queue}</source>
        <translation>Jono: {queue}</translation>
    </message>
    <message>
        <source>Direct call</source>
        <translation>Suora puhelu</translation>
    </message>
    <message>
        <source>Answer</source>
        <translation>Vastaa</translation>
    </message>
    <message>
        <source>Decline</source>
        <translation>Hylkää</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Switchboard</source>
        <translation>Switchboard</translation>
    </message>
    <message>
        <source>Dial</source>
        <translation>Numeronvalinta</translation>
    </message>
    <message>
        <source>Recent calls</source>
        <translation>Viimeisimmät puhelut</translation>
    </message>
    <message>
        <source>Caller details appear here when a call comes in.</source>
        <translation>Soittajan tiedot näkyvät tässä, kun puhelu saapuu.</translation>
    </message>
    <message>
        <source>Dismiss</source>
        <translation>Sulje</translation>
    </message>
    <message>
        <source>Audio…</source>
        <translation>Ääni…</translation>
    </message>
    <message>
        <source>Microphone, speaker, ringer and volumes</source>
        <translation>Mikrofoni, kaiutin, soittoääni ja äänenvoimakkuudet</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>Asetukset…</translation>
    </message>
    <message>
        <source>Phone account, audio, CRM, phone system, language and caller ids</source>
        <translation>Puhelintili, ääni, CRM, puhelinjärjestelmä, kieli ja näytettävät numerot</translation>
    </message>
    <message>
        <source>Set up the phone…</source>
        <translation>Ota puhelin käyttöön…</translation>
    </message>
    <message>
        <source>Starting the phone…</source>
        <translation>Puhelin käynnistyy…</translation>
    </message>
    <message>
        <source>Phone not set up</source>
        <translation>Puhelinta ei ole otettu käyttöön</translation>
    </message>
    <message>
        <source>Phone not running</source>
        <translation>Puhelin ei ole käynnissä</translation>
    </message>
    <message>
        <source>Registered</source>
        <translation>Rekisteröity</translation>
    </message>
    <message>
        <source>Registering…</source>
        <translation>Rekisteröidään…</translation>
    </message>
    <message>
        <source>Direct calls (no registrar)</source>
        <translation>Suorat puhelut (ei rekisteröintipalvelinta)</translation>
    </message>
    <message>
        <source>Not registered — retrying in %d s</source>
        <translation>Ei rekisteröity — uusi yritys %d s kuluttua</translation>
    </message>
    <message>
        <source>Not registered</source>
        <translation>Ei rekisteröity</translation>
    </message>
</context>
<context>
    <name>OutboxStatus</name>
    <message>
        <source>Retry</source>
        <translation>Yritä uudelleen</translation>
    </message>
    <message>
        <source>1 call log waiting for the CRM</source>
        <translation>1 puhelukirjaus odottaa CRM:ää</translation>
    </message>
    <message>
        <source>%d call logs waiting for the CRM</source>
        <translation>%d puhelukirjausta odottaa CRM:ää</translation>
    </message>
    <message>
        <source>1 call log refused by the CRM</source>
        <translation>CRM hylkäsi 1 puhelukirjauksen</translation>
    </message>
    <message>
        <source>%d call logs refused by the CRM</source>
        <translation>CRM hylkäsi %d puhelukirjausta</translation>
    </message>
</context>
<context>
    <name>QualityBadge</name>
    <message>
        <source>MOS %.1f</source>
        <translation>MOS %.1f</translation>
    </message>
    <message>
        <source>Estimated call quality (E-model, 1–4.5): %.2f
Packets lost: %.1f %% received, %.1f %% sent (far end&apos;s report)
Jitter: %.1f ms
Round trip: %s
Codec: %s</source>
        <translation>Arvioitu puhelun laatu (E-malli, 1–4,5): %.2f
Hukatut paketit: %.1f %% vastaanotetuista, %.1f %% lähetetyistä (vastapään raportti)
Värinä: %.1f ms
Edestakainen viive: %s
Koodekki: %s</translation>
    </message>
    <message>
        <source>not measured yet</source>
        <translation>ei vielä mitattu</translation>
    </message>
</context>
<context>
    <name>QueueDashboard</name>
    <message>
        <source>No queues</source>
        <translation>Ei jonoja</translation>
    </message>
    <message numerus="yes">
        <source> Retrying in %n s.</source>
        <translation>
            <numerusform> Uusi yritys %n s kuluttua.</numerusform>
            <numerusform> Uusi yritys %n s kuluttua.</numerusform>
        </translation>
    </message>
    <message>
        <source>The phone system cannot be reached (%1).</source>
        <translation>Puhelinjärjestelmään ei saada yhteyttä (%1).</translation>
    </message>
    <message>
        <source>The phone system refused our sign-in: %1. Check the user and secret in the settings.</source>
        <translation>Puhelinjärjestelmä hylkäsi kirjautumisen: %1. Tarkista käyttäjä ja salaisuus asetuksista.</translation>
    </message>
    <message>
        <source>Connecting to the phone system…</source>
        <translation>Yhdistetään puhelinjärjestelmään…</translation>
    </message>
    <message>
        <source>Not connected to the phone system.</source>
        <translation>Ei yhteyttä puhelinjärjestelmään.</translation>
    </message>
</context>
<context>
    <name>QueueTableModel</name>
    <message>
        <source>Queue</source>
        <translation>Jono</translation>
    </message>
    <message>
        <source>Number</source>
        <translation>Numero</translation>
    </message>
    <message>
        <source>Serving</source>
        <translation>Palvelee</translation>
    </message>
    <message>
        <source>Free</source>
        <translation>Vapaana</translation>
    </message>
    <message>
        <source>Active</source>
        <translation>Aktiivinen</translation>
    </message>
    <message>
        <source>Active calls</source>
        <translation>Aktiiviset puhelut</translation>
    </message>
    <message>
        <source>Queue length</source>
        <translation>Jonon pituus</translation>
    </message>
    <message>
        <source>Max wait time</source>
        <translation>Pisin odotus</translation>
    </message>
    <message>
        <source>Untick to stop taking this queue&apos;s calls</source>
        <translation>Poista valinta, niin tämän jonon puhelut eivät enää tule sinulle</translation>
    </message>
    <message>
        <source>Tick to take this queue&apos;s calls</source>
        <translation>Valitse, niin tämän jonon puhelut tulevat sinulle</translation>
    </message>
</context>
<context>
    <name>RecordingBar</name>
    <message>
        <source>Record</source>
        <translation>Nauhoita</translation>
    </message>
    <message>
        <source>Pause recording</source>
        <translation>Keskeytä nauhoitus</translation>
    </message>
    <message>
        <source>Stop recording</source>
        <translation>Lopeta nauhoitus</translation>
    </message>
    <message>
        <source>Resume recording</source>
        <translation>Jatka nauhoitusta</translation>
    </message>
    <message>
        <source>● Recording</source>
        <translation>● Nauhoitetaan</translation>
    </message>
    <message>
        <source>❚❚ Recording paused</source>
        <translation>❚❚ Nauhoitus keskeytetty</translation>
    </message>
    <message>
        <source>Recorded</source>
        <translation>Nauhoitettu</translation>
    </message>
    <message>
        <source>Recording failed: %s</source>
        <translation>Nauhoitus epäonnistui: %s</translation>
    </message>
</context>
<context>
    <name>RecordingPlayer</name>
    <message>
        <source>Stop</source>
        <translation>Pysäytä</translation>
    </message>
    <message>
        <source>The recording %s is no longer there.</source>
        <translation>Nauhoitetta %s ei enää ole.</translation>
    </message>
    <message>
        <source>Playing %s  %s / %s</source>
        <translation>Toistetaan %s  %s / %s</translation>
    </message>
    <message>
        <source>Cannot play %s: %s</source>
        <translation>Nauhoitetta %s ei voi toistaa: %s</translation>
    </message>
</context>
<context>
    <name>ScreenPopPane</name>
    <message>
        <source>Open now</source>
        <translation>Avaa nyt</translation>
    </message>
    <message>
        <source>You have unsaved changes on this page, so the caller&apos;s record was not opened. It opens when you answer the call.</source>
        <translation>Tällä sivulla on tallentamattomia muutoksia, joten soittajan tietuetta ei avattu. Se avautuu, kun vastaat puheluun.</translation>
    </message>
    <message>
        <source>You have unsaved changes on this page, so the caller&apos;s record was not opened. Save or cancel your changes, then press Open now.</source>
        <translation>Tällä sivulla on tallentamattomia muutoksia, joten soittajan tietuetta ei avattu. Tallenna tai peru muutokset ja paina sitten Avaa nyt.</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>Asetukset</translation>
    </message>
    <message>
        <source>Phone account</source>
        <translation>Puhelintili</translation>
    </message>
    <message>
        <source>Sound is switched off (phone.audio = &quot;null&quot;): calls connect but are silent.</source>
        <translation>Ääni on pois päältä (phone.audio = &quot;null&quot;): puhelut yhdistyvät, mutta ovat äänettömiä.</translation>
    </message>
    <message>
        <source>Audio</source>
        <translation>Ääni</translation>
    </message>
    <message>
        <source>CRM</source>
        <translation>CRM</translation>
    </message>
    <message>
        <source>Built-in CRM</source>
        <translation>Sisäänrakennettu CRM</translation>
    </message>
    <message>
        <source>Sign-in address</source>
        <translation>Kirjautumisosoite</translation>
    </message>
    <message>
        <source>https://login.salesforce.com, https://test.salesforce.com for a sandbox, or your org&apos;s My Domain address.</source>
        <translation>https://login.salesforce.com, testiympäristölle https://test.salesforce.com, tai organisaationne My Domain -osoite.</translation>
    </message>
    <message>
        <source>Consumer key</source>
        <translation>Kuluttaja-avain (consumer key)</translation>
    </message>
    <message>
        <source>Of the connected app your Salesforce admin set up for Switchboard.</source>
        <translation>Salesforce-ylläpitäjänne Switchboardia varten luomasta yhdistetystä sovelluksesta.</translation>
    </message>
    <message>
        <source>Environment address</source>
        <translation>Ympäristön osoite</translation>
    </message>
    <message>
        <source>Application id</source>
        <translation>Sovellustunnus</translation>
    </message>
    <message>
        <source>Of the app registration your Entra ID admin set up for Switchboard.</source>
        <translation>Entra ID -ylläpitäjänne Switchboardia varten tekemästä sovellusrekisteröinnistä.</translation>
    </message>
    <message>
        <source>Tenant</source>
        <translation>Vuokraaja (tenant)</translation>
    </message>
    <message>
        <source>Your organisation&apos;s Entra ID tenant (its domain or id).</source>
        <translation>Organisaationne Entra ID -vuokraaja (sen toimialue tai tunnus).</translation>
    </message>
    <message>
        <source>Queues and availability</source>
        <translation>Jonot ja tavoitettavuus</translation>
    </message>
    <message>
        <source>None (calls only)</source>
        <translation>Ei mitään (vain puhelut)</translation>
    </message>
    <message>
        <source>SIP presence</source>
        <translation>SIP-läsnäolo</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>Osoite</translation>
    </message>
    <message>
        <source>Asterisk Manager host, or an Enreach API address (empty: found by discovery).</source>
        <translation>Asterisk Manager -palvelin tai Enreach-rajapinnan osoite (tyhjä: haetaan automaattisesti).</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>Portti</translation>
    </message>
    <message>
        <source>User</source>
        <translation>Käyttäjä</translation>
    </message>
    <message>
        <source>Queue member</source>
        <translation>Jonon jäsen</translation>
    </message>
    <message>
        <source>Asterisk only: your queue member interface, e.g. PJSIP/1001.</source>
        <translation>Vain Asterisk: jonon jäsenliittymäsi, esim. PJSIP/1001.</translation>
    </message>
    <message>
        <source>Phone system</source>
        <translation>Puhelinjärjestelmä</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Kieli</translation>
    </message>
    <message>
        <source>As the system</source>
        <translation>Järjestelmän mukaan</translation>
    </message>
    <message>
        <source>Numbers</source>
        <translation>Numerot</translation>
    </message>
    <message>
        <source>One number per line. The first is your work number; you choose the one shown on each outbound call under the dial pad.</source>
        <translation>Yksi numero riville. Ensimmäinen on työnumerosi; kullakin lähtevällä puhelulla näkyvän numeron valitset numeronvalitsimen alta.</translation>
    </message>
    <message>
        <source>Caller ids</source>
        <translation>Näytettävät numerot</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>Tallenna</translation>
    </message>
    <message>
        <source>Not saved: fix the marked fields.</source>
        <translation>Ei tallennettu: korjaa merkityt kentät.</translation>
    </message>
</context>
<context>
    <name>SettingsWiring</name>
    <message>
        <source>Enter the password of the phone account.</source>
        <translation>Anna puhelintilin salasana.</translation>
    </message>
    <message>
        <source>Saved.</source>
        <translation>Tallennettu.</translation>
    </message>
    <message>
        <source>the CRM</source>
        <translation>CRM</translation>
    </message>
    <message>
        <source>the phone system</source>
        <translation>puhelinjärjestelmä</translation>
    </message>
    <message>
        <source>the language</source>
        <translation>kieli</translation>
    </message>
    <message>
        <source>The phone account applies when your calls have ended.</source>
        <translation>Puhelintili otetaan käyttöön, kun puhelusi ovat päättyneet.</translation>
    </message>
    <message>
        <source>The phone restarts with the new account.</source>
        <translation>Puhelin käynnistyy uudelleen uudella tilillä.</translation>
    </message>
    <message>
        <source>Restart Switchboard to apply %s.</source>
        <translation>Käynnistä Switchboard uudelleen, jotta muutos tulee voimaan: %s.</translation>
    </message>
    <message>
        <source>Not a phone number: %s</source>
        <translation>Ei puhelinnumero: %s</translation>
    </message>
    <message>
        <source>Not saved: %s</source>
        <translation>Ei tallennettu: %s</translation>
    </message>
</context>
<context>
    <name>Status</name>
    <message>
        <source>Available</source>
        <translation>Tavoitettavissa</translation>
    </message>
    <message>
        <source>Busy</source>
        <translation>Varattu</translation>
    </message>
    <message>
        <source>Do not disturb</source>
        <translation>Älä häiritse</translation>
    </message>
    <message>
        <source>Off work</source>
        <translation>Poissa töistä</translation>
    </message>
    <message>
        <source>Lunch</source>
        <translation>Lounas</translation>
    </message>
    <message>
        <source>Meeting</source>
        <translation>Palaveri</translation>
    </message>
    <message>
        <source>In a Call</source>
        <translation>Puhelussa</translation>
    </message>
    <message>
        <source>Wrap Up</source>
        <translation>Jälkikirjaus</translation>
    </message>
</context>
<context>
    <name>StatusMenu</name>
    <message>
        <source>Select your status</source>
        <translation>Valitse tilasi</translation>
    </message>
    <message>
        <source>Ready — end wrap-up</source>
        <translation>Valmis — lopeta jälkikirjaus</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Tila</translation>
    </message>
    <message>
        <source>Choose for:</source>
        <translation>Voimassa:</translation>
    </message>
    <message>
        <source>Receive pool calls</source>
        <translation>Vastaanota jonopuhelut</translation>
    </message>
    <message>
        <source>Upcoming availabilities</source>
        <translation>Tulevat tavoitettavuudet</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>Poista</translation>
    </message>
    <message>
        <source>Ends</source>
        <translation>Päättyy</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>Lisää</translation>
    </message>
    <message>
        <source>Status:</source>
        <translation>Tila:</translation>
    </message>
    <message>
        <source>Starts:</source>
        <translation>Alkaa:</translation>
    </message>
    <message>
        <source>Display number:</source>
        <translation type="vanished">Näytettävä numero:</translation>
    </message>
    <message>
        <source>Until changed</source>
        <translation>Toistaiseksi</translation>
    </message>
    <message numerus="yes">
        <source>%n min</source>
        <translation>
            <numerusform>%n min</numerusform>
            <numerusform>%n min</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n h</source>
        <translation>
            <numerusform>%n h</numerusform>
            <numerusform>%n h</numerusform>
        </translation>
    </message>
    <message>
        <source>Default</source>
        <translation type="vanished">Oletus</translation>
    </message>
    <message>
        <source>Don&apos;t show number</source>
        <translation type="vanished">Älä näytä numeroa</translation>
    </message>
    <message>
        <source>Work number (%1)</source>
        <translation type="vanished">Työnumero (%1)</translation>
    </message>
    <message>
        <source>In a Call</source>
        <translation>Puhelussa</translation>
    </message>
    <message>
        <source>Wrap Up</source>
        <translation>Jälkikirjaus</translation>
    </message>
    <message>
        <source>%1 (then %2)</source>
        <translation>%1 (sitten %2)</translation>
    </message>
    <message>
        <source>until changed</source>
        <translation>toistaiseksi</translation>
    </message>
    <message>
        <source>%1 left, then %2</source>
        <translation>%1 jäljellä, sitten %2</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>%1 jäljellä</translation>
    </message>
</context>
<context>
    <name>SwitchboardApp</name>
    <message>
        <source>Setting ignored: %s</source>
        <translation>Asetus ohitettiin: %s</translation>
    </message>
    <message>
        <source>Call history is not being saved this session: %s</source>
        <translation>Puheluhistoriaa ei tallenneta tämän istunnon aikana: %s</translation>
    </message>
    <message>
        <source>The phone could not start: %s</source>
        <translation>Puhelin ei käynnistynyt: %s</translation>
    </message>
</context>
<context>
    <name>TransferBox</name>
    <message>
        <source>Number, SIP address, colleague or queue</source>
        <translation>Numero, SIP-osoite, kollega tai jono</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Sulje</translation>
    </message>
    <message>
        <source>Talk to the colleague first, then hand the call over:</source>
        <translation>Puhu ensin kollegan kanssa, siirrä sitten puhelu:</translation>
    </message>
    <message>
        <source>Transfer the caller straight to:</source>
        <translation>Siirrä soittaja suoraan:</translation>
    </message>
    <message>
        <source>Call</source>
        <translation>Soita</translation>
    </message>
    <message>
        <source>Transfer</source>
        <translation>Siirrä</translation>
    </message>
    <message>
        <source>Type a number or pick a colleague.</source>
        <translation>Kirjoita numero tai valitse kollega.</translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <source>Hide window</source>
        <translation>Piilota ikkuna</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Tila</translation>
    </message>
    <message>
        <source>Quit Switchboard</source>
        <translation>Lopeta Switchboard</translation>
    </message>
    <message>
        <source>There is no system tray on this desktop, so Switchboard has no tray icon; the window stays open and shows everything instead.</source>
        <translation>Tällä työpöydällä ei ole ilmoitusaluetta, joten Switchboardilla ei ole siellä kuvaketta; ikkuna pysyy auki ja näyttää kaiken.</translation>
    </message>
    <message>
        <source>Show window</source>
        <translation>Näytä ikkuna</translation>
    </message>
    <message>
        <source>connected</source>
        <translation>yhdistetty</translation>
    </message>
    <message>
        <source>direct calls only</source>
        <translation>vain suorat puhelut</translation>
    </message>
    <message>
        <source>connecting…</source>
        <translation>yhdistetään…</translation>
    </message>
    <message>
        <source>not connected</source>
        <translation>ei yhteyttä</translation>
    </message>
    <message>
        <source>offline</source>
        <translation>ei verkossa</translation>
    </message>
    <message>
        <source>1 missed call</source>
        <translation>1 vastaamaton puhelu</translation>
    </message>
    <message numerus="yes">
        <source>%n missed calls</source>
        <translation>
            <numerusform>%n vastaamaton puhelu</numerusform>
            <numerusform>%n vastaamatonta puhelua</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>links</name>
    <message>
        <source>A link must be text.</source>
        <translation>Linkin on oltava tekstiä.</translation>
    </message>
    <message>
        <source>That link is too long to be a phone number or SIP address ({length} characters).</source>
        <translation>Linkki on liian pitkä puhelinnumeroksi tai SIP-osoitteeksi ({length} merkkiä).</translation>
    </message>
    <message>
        <source>{link} contains control characters; it was not dialled.</source>
        <translation>{link} sisältää ohjausmerkkejä; siihen ei soitettu.</translation>
    </message>
    <message>
        <source>There is nothing to dial.</source>
        <translation>Ei mitään soitettavaa.</translation>
    </message>
    <message>
        <source>Switchboard dials only tel:, sip:, sips: and callto: links, not {scheme}: links.</source>
        <translation>Switchboard soittaa vain tel:-, sip:-, sips:- ja callto:-linkkeihin, ei {scheme}:-linkkeihin.</translation>
    </message>
    <message>
        <source>{link} has a broken %-escape.</source>
        <translation>Linkissä {link} on virheellinen %-koodaus.</translation>
    </message>
    <message>
        <source>{link} hides control characters or a second %-escape in its %-escapes; it was not dialled.</source>
        <translation>Linkin {link} %-koodauksiin on piilotettu ohjausmerkkejä tai toinen %-koodaus; siihen ei soitettu.</translation>
    </message>
    <message>
        <source>{link} is not a number Switchboard can dial: {reason}.</source>
        <translation>{link} ei ole numero, johon Switchboard voi soittaa: {reason}.</translation>
    </message>
    <message>
        <source>{link} has a parameter Switchboard does not understand.</source>
        <translation>Linkissä {link} on parametri, jota Switchboard ei ymmärrä.</translation>
    </message>
    <message>
        <source>{link} has a phone-context that is not a number prefix.</source>
        <translation>Linkin {link} phone-context ei ole numeron etuliite.</translation>
    </message>
    <message>
        <source>{link} carries SIP headers; Switchboard does not send headers from links, so it was not dialled.</source>
        <translation>Linkki {link} sisältää SIP-otsakkeita; Switchboard ei lähetä otsakkeita linkeistä, joten siihen ei soitettu.</translation>
    </message>
    <message>
        <source>{link} has characters that are not allowed in a SIP address.</source>
        <translation>Linkissä {link} on merkkejä, jotka eivät ole sallittuja SIP-osoitteessa.</translation>
    </message>
    <message>
        <source>{link} is not a SIP address of the form user@host.</source>
        <translation>{link} ei ole muotoa käyttäjä@palvelin oleva SIP-osoite.</translation>
    </message>
    <message>
        <source>{link} contains a password; Switchboard does not dial links with passwords in them.</source>
        <translation>{link} sisältää salasanan; Switchboard ei soita linkkeihin, joissa on salasana.</translation>
    </message>
    <message>
        <source>{link} does not name a valid host.</source>
        <translation>Linkissä {link} ei ole kelvollista palvelinta.</translation>
    </message>
    <message>
        <source>{link} has a port that is not a number from 1 to 65535.</source>
        <translation>Linkin {link} portti ei ole luku väliltä 1–65535.</translation>
    </message>
</context>
</TS>
