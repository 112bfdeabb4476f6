"""weft.select: select(), epoll, poll and Poller over weft sockets, weft
Events and plain descriptors.

One behaviour per test; waits are bounded, and the only timing
assertions are lower bounds.
"""

import os
import time
import unittest

import weft
import weft.select as select
import weft.socket as socket
import weft.threading as threading

WAIT = 30


class Fixtures(unittest.TestCase):
    """A socket pair (a, b), an Event and a pipe (r, w)."""

    def setUp(self):
        self.a, self.b = socket.socketpair()
        self.ev = threading.Event()
        self.r, self.w = os.pipe()

    def tearDown(self):
        self.a.close()
        self.b.close()
        self.ev.close()
        os.close(self.r)
        os.close(self.w)


class Select(Fixtures):

    def test_a_socket_with_data_is_readable(self):
        self.assertEqual(select.select([self.b], [], [], 0), ([], [], []))
        self.a.sendall(b"x")
        self.assertEqual(select.select([self.b], [], [], WAIT),
                         ([self.b], [], []))

    def test_a_connected_socket_is_writable(self):
        self.assertEqual(select.select([], [self.a], [], WAIT),
                         ([], [self.a], []))

    def test_an_event_is_readable_while_set(self):
        self.assertEqual(select.select([self.ev], [], [], 0), ([], [], []))
        self.ev.set()
        self.assertEqual(select.select([self.ev], [], [], WAIT),
                         ([self.ev], [], []))
        self.ev.clear()
        self.assertEqual(select.select([self.ev], [], [], 0), ([], [], []))

    def test_an_event_set_by_another_thread_ends_the_wait(self):
        t = threading.Timer(0.05, self.ev.set)
        t.start()
        r, _, _ = select.select([self.b, self.ev], [], [], WAIT)
        self.assertEqual(r, [self.ev])
        t.join(WAIT)

    def test_plain_descriptors(self):
        os.write(self.w, b"x")
        self.assertEqual(select.select([self.r], [self.w], [], WAIT),
                         ([self.r], [self.w], []))

    def test_objects_with_fileno(self):
        class F(object):
            def __init__(self, fd):
                self.fd = fd

            def fileno(self):
                return self.fd
        f = F(self.r)
        os.write(self.w, b"x")
        self.assertEqual(select.select([f], [], [], WAIT), ([f], [], []))

    def test_sockets_events_and_descriptors_together(self):
        self.a.sendall(b"x")
        self.ev.set()
        os.write(self.w, b"x")
        r, w, x = select.select([self.b, self.ev, self.r], [self.w], [],
                                WAIT)
        self.assertEqual((r, w, x), ([self.b, self.ev, self.r], [self.w],
                                     []))

    def test_the_lists_keep_their_order(self):
        c, d = socket.socketpair()
        d.sendall(b"x")
        self.a.sendall(b"x")
        r, _, _ = select.select([c, self.r, self.b], [], [], WAIT)
        self.assertEqual(r, [c, self.b])
        c.close()
        d.close()

    def test_a_timeout_returns_three_empty_lists(self):
        t0 = time.monotonic()
        self.assertEqual(select.select([self.b], [], [], 0.1), ([], [], []))
        self.assertGreaterEqual(time.monotonic() - t0, 0.1)

    def test_a_timeout_with_descriptors_returns_empty_lists(self):
        t0 = time.monotonic()
        self.assertEqual(select.select([self.r, self.b], [], [], 0.1),
                         ([], [], []))
        self.assertGreaterEqual(time.monotonic() - t0, 0.1)

    def test_any_iterable_of_objects(self):
        self.a.sendall(b"x")
        r, _, _ = select.select((self.b,), set(), iter([]), WAIT)
        self.assertEqual(r, [self.b])

    def test_closing_a_socket_ends_a_select_on_it(self):
        def closer():
            time.sleep(0.05)
            self.b.close()
        t = threading.Thread(target=closer)
        t.start()
        with self.assertRaises(weft.ClosedError):
            select.select([self.b], [], [], WAIT)
        t.join(WAIT)

    def test_bad_timeouts(self):
        with self.assertRaises(ValueError):
            select.select([], [], [], -1)
        with self.assertRaises(TypeError):
            select.select([], [], [], "1")

    def test_bad_objects(self):
        with self.assertRaises(TypeError):
            select.select(["x"], [], [], 0)
        with self.assertRaises(ValueError):
            select.select([-1], [], [], 0)

    def test_a_closed_socket_is_a_value_error(self):
        c, d = socket.socketpair()
        c.close()
        with self.assertRaises(ValueError):
            select.select([c], [], [], 0)
        d.close()

    def test_error_is_oserror(self):
        self.assertIs(select.error, OSError)


class Epoll(Fixtures):

    def setUp(self):
        Fixtures.setUp(self)
        self.ep = select.epoll()

    def tearDown(self):
        self.ep.close()
        Fixtures.tearDown(self)

    def test_register_and_poll(self):
        self.ep.register(self.b, select.EPOLLIN)
        self.ep.register(self.r, select.EPOLLIN)
        self.assertEqual(self.ep.poll(0), [])
        self.a.sendall(b"x")
        os.write(self.w, b"x")
        got = sorted(self.ep.poll(WAIT))
        self.assertEqual(got, sorted([(self.b.fileno(), select.EPOLLIN),
                                      (self.r, select.EPOLLIN)]))

    def test_an_event_is_reported_as_itself(self):
        self.ep.register(self.ev, select.EPOLLIN)
        self.ev.set()
        self.assertEqual(self.ep.poll(WAIT), [(self.ev, select.EPOLLIN)])

    def test_modify_changes_the_events(self):
        self.ep.register(self.a, select.EPOLLIN)
        self.assertEqual(self.ep.poll(0), [])
        self.ep.modify(self.a, select.EPOLLOUT)
        self.assertEqual(self.ep.poll(WAIT),
                         [(self.a.fileno(), select.EPOLLOUT)])

    def test_unregister_stops_the_reports(self):
        self.ep.register(self.a, select.EPOLLOUT)
        self.ep.unregister(self.a)
        self.assertEqual(self.ep.poll(0), [])

    def test_registering_twice_is_file_exists_error(self):
        self.ep.register(self.r)
        with self.assertRaises(FileExistsError):
            self.ep.register(self.r)

    def test_modifying_what_is_not_registered_is_file_not_found(self):
        with self.assertRaises(FileNotFoundError):
            self.ep.modify(self.r, select.EPOLLIN)
        with self.assertRaises(FileNotFoundError):
            self.ep.unregister(self.r)

    def test_closing_a_registered_socket_unregisters_it(self):
        c, d = socket.socketpair()
        self.ep.register(c, select.EPOLLOUT)
        c.close()
        self.assertEqual(self.ep.poll(0), [])
        d.close()

    def test_edge_triggered_reports_once(self):
        self.ep.register(self.b, select.EPOLLIN | select.EPOLLET)
        self.a.sendall(b"x")
        self.assertEqual(len(self.ep.poll(WAIT)), 1)
        self.assertEqual(self.ep.poll(0), [])

    def test_maxevents(self):
        self.ep.register(self.a, select.EPOLLOUT)
        self.ep.register(self.w, select.EPOLLOUT)
        self.assertEqual(len(self.ep.poll(WAIT, 1)), 1)
        with self.assertRaises(ValueError):
            self.ep.poll(0, 0)

    def test_a_timeout_returns_an_empty_list(self):
        self.ep.register(self.b, select.EPOLLIN)
        t0 = time.monotonic()
        self.assertEqual(self.ep.poll(0.1), [])
        self.assertGreaterEqual(time.monotonic() - t0, 0.1)

    def test_close_and_the_context_manager(self):
        with select.epoll() as ep:
            self.assertFalse(ep.closed)
        self.assertTrue(ep.closed)
        with self.assertRaises(ValueError):
            ep.poll(0)
        ep.close()

    def test_closing_the_poller_wakes_a_waiter(self):
        ep = select.epoll()
        ep.register(self.b, select.EPOLLIN)
        t = threading.Timer(0.05, ep.close)
        t.start()
        with self.assertRaises(weft.ClosedError):
            ep.poll(WAIT)
        t.join(WAIT)

    def test_the_epoll_descriptor_nests_in_the_stdlib_select(self):
        import select as std_select
        ep = select.epoll()
        ep.register(self.b, select.EPOLLIN)
        fd = ep.fileno()
        self.assertEqual(std_select.select([fd], [], [], 0)[0], [])
        self.a.send(b"x")
        self.assertEqual(std_select.select([fd], [], [], WAIT)[0], [fd])
        self.assertEqual(ep.poll(0), [(self.b.fileno(), select.EPOLLIN)])
        ep.close()
        with self.assertRaises(ValueError):
            ep.fileno()

    def test_epoll_constants_match_the_stdlib(self):
        import select as std_select
        names = [n for n in dir(std_select) if n.startswith(("EPOLL",
                                                             "POLL"))]
        differ = [n for n in names if hasattr(select, n)
                  and getattr(select, n) != getattr(std_select, n)]
        self.assertEqual(differ, [])
        self.assertTrue(hasattr(select, "EPOLLIN"))


class Poll(Fixtures):

    def test_register_and_poll(self):
        p = select.poll()
        p.register(self.b, select.POLLIN)
        p.register(self.r, select.POLLIN)
        self.assertEqual(p.poll(0), [])
        os.write(self.w, b"x")
        self.assertEqual(p.poll(WAIT * 1000), [(self.r, select.POLLIN)])

    def test_registering_again_modifies(self):
        p = select.poll()
        p.register(self.a, select.POLLIN)
        p.register(self.a, select.POLLOUT)
        self.assertEqual(p.poll(WAIT * 1000),
                         [(self.a.fileno(), select.POLLOUT)])

    def test_unregistering_what_is_not_registered_is_key_error(self):
        p = select.poll()
        with self.assertRaises(KeyError):
            p.unregister(self.r)

    def test_timeouts_are_milliseconds(self):
        p = select.poll()
        p.register(self.b, select.POLLIN)
        t0 = time.monotonic()
        self.assertEqual(p.poll(100), [])
        self.assertGreaterEqual(time.monotonic() - t0, 0.1)

    def test_a_hang_up_is_reported(self):
        p = select.poll()
        p.register(self.b, select.POLLIN)
        self.a.close()
        (fd, events), = p.poll(WAIT * 1000)
        self.assertTrue(events & (select.POLLIN | select.POLLHUP))


class Poller(Fixtures):

    def test_keys_come_back(self):
        with select.Poller() as p:
            p.register(self.b, select.POLLIN, key="data")
            p.register(self.ev, select.POLLIN, key="stop")
            p.register(self.r, select.POLLIN, key=("pipe", self.r))
            self.ev.set()
            os.write(self.w, b"x")
            got = dict(p.poll(WAIT))
        self.assertEqual(got, {"stop": select.POLLIN,
                               ("pipe", self.r): select.POLLIN})

    def test_the_key_defaults_to_the_target(self):
        with select.Poller() as p:
            p.register(self.a, select.POLLOUT)
            self.assertEqual(p.poll(WAIT), [(self.a, select.POLLOUT)])

    def test_modify_can_change_the_key(self):
        with select.Poller() as p:
            p.register(self.a, select.POLLIN, key="in")
            p.modify(self.a, select.POLLOUT, key="out")
            self.assertEqual(p.poll(WAIT), [("out", select.POLLOUT)])

    def test_unregister(self):
        with select.Poller() as p:
            p.register(self.a, select.POLLOUT)
            p.unregister(self.a)
            self.assertEqual(p.poll(0), [])
            with self.assertRaises(FileNotFoundError):
                p.unregister(self.a)

    def test_the_poll_backend(self):
        with select.Poller(select.POLLER_POLL) as p:
            p.register(self.ev, select.POLLIN, key="ev")
            self.ev.set()
            self.assertEqual(p.poll(WAIT), [("ev", select.POLLIN)])

    def test_a_handle_made_elsewhere(self):
        h = weft.lib.poller_new(0)
        p = select.Poller(handle=h)
        self.assertEqual(p.handle, h)
        p.register(self.a, select.POLLOUT, key=1)
        self.assertEqual(p.poll(WAIT), [(1, select.POLLOUT)])
        p.close()
        with self.assertRaises(weft.BadHandleError):
            weft.lib.poller_poll(h, 0, 1)

    def test_unknown_bits_are_value_errors(self):
        with select.Poller() as p:
            with self.assertRaises(ValueError):
                p.register(self.a, 1 << 20)


if __name__ == "__main__":
    unittest.main()
